"""Many personalised emails as one body: a shared skeleton plus per-recipient substitutions.

SendGrid's mail/send takes one body per request and up to 1000 personalizations; each
personalization may carry `substitutions` (tag → text) that SendGrid replaces in the body for
that recipient alone. Emails rendered from one template differ in a few places (a name, a
link, the signed unsubscribe URL) and agree everywhere else. So each body is cut into
pieces (text at each line end, HTML at each `>`, so a piece is a tag or a short text:
compiled MJML puts kilobytes of HTML on one line) and compared, piece by piece, with the
request's first body; the pieces where any member differs become tags in the shared body,
and each member carries its own text for them (adjacent pieces share one tag). Put back
together, every recipient's email is exactly the one rendered for them.

SendGrid allows at most 100 substitutions and 10,000 bytes of them (tags and values) per
personalization; `RequestPacking.admit` refuses a message that would break either, so the
caller starts another request instead of letting the provider refuse one. Tags carry a random
marker that appears nowhere in the request's text, so no template text can pass for a tag.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress, count
from operator import ne

MAX_SUBSTITUTIONS = 100
MAX_SUBSTITUTION_BYTES = 10_000
_TAG_BYTES = 24  # "-tm" + 16 hex digits + "x" + index + "-", with room to spare
TEXT_SEPARATOR = "\n"
HTML_SEPARATOR = ">"


@dataclass(frozen=True)
class BodyPieces:
    """An email's text and HTML parts as one list of pieces, text first.

    The text part is cut at line ends and the HTML part at `>`: joining a part's pieces with
    its separator gives the part back.
    """

    pieces: list[str]
    text_pieces: int | None  # pieces of the text part; None: the email has no text part
    html_pieces: int | None  # pieces of the HTML part; None: no HTML part

    @classmethod
    def of(cls, text: str | None, html: str | None) -> BodyPieces:
        text_part = text.split(TEXT_SEPARATOR) if text is not None else []
        html_part = html.split(HTML_SEPARATOR) if html is not None else []
        return cls(
            text_part + html_part,
            len(text_part) if text is not None else None,
            len(html_part) if html is not None else None,
        )

    @property
    def shape(self) -> tuple[int | None, int | None]:
        """Bodies share a skeleton only when their parts have the same number of pieces."""
        return (self.text_pieces, self.html_pieces)


def differing_pieces(reference: Sequence[str], pieces: Sequence[str]) -> set[int]:
    """Positions where two bodies of one shape differ (compared at C speed: it runs per email)."""
    if len(reference) != len(pieces):
        raise ValueError("only bodies of the same shape can share a skeleton")
    return set(compress(count(), map(ne, reference, pieces)))


def variable_runs(positions: set[int], text_pieces: int) -> list[tuple[int, int]]:
    """Maximal runs `[start, stop)` of adjacent variable pieces, never across text → HTML."""
    runs: list[tuple[int, int]] = []
    for position in sorted(positions):
        if runs and runs[-1][1] == position and position != text_pieces:
            runs[-1] = (runs[-1][0], position + 1)
        else:
            runs.append((position, position + 1))
    return runs


def _substitution_bytes(pieces: Sequence[str], runs: list[tuple[int, int]]) -> int:
    size = len(runs) * _TAG_BYTES
    for start, stop in runs:
        size += sum(len(piece.encode()) + 1 for piece in pieces[start:stop])
    return size


class RequestPacking:
    """The members one request can carry with one shared body, within SendGrid's limits."""

    def __init__(self, index: int, body: BodyPieces) -> None:
        """A request whose first member is message `index`: its body is the reference."""
        self.reference = body.pieces
        self.text_pieces = body.text_pieces or 0
        self.members: dict[int, list[str]] = {index: body.pieces}
        self.variable: set[int] = set()
        self.runs: list[tuple[int, int]] = []

    def admit(self, index: int, body: BodyPieces) -> bool:
        """Add the message if the shared body can still carry every member; say whether."""
        variable = self.variable | differing_pieces(self.reference, body.pieces)
        if len(variable) == len(self.variable):
            if _substitution_bytes(body.pieces, self.runs) > MAX_SUBSTITUTION_BYTES:
                return False
            self.members[index] = body.pieces
            return True
        runs = variable_runs(variable, self.text_pieces)
        if len(runs) > MAX_SUBSTITUTIONS:
            return False
        everyone = [*self.members.values(), body.pieces]
        if any(_substitution_bytes(pieces, runs) > MAX_SUBSTITUTION_BYTES for pieces in everyone):
            return False
        self.members[index] = body.pieces
        self.variable, self.runs = variable, runs
        return True


@dataclass(frozen=True)
class SharedBody:
    text: str | None
    html: str | None
    substitutions: list[dict[str, str]]  # one per member, in order; empty when all agree


def shared_body(bodies: Sequence[BodyPieces], variable: set[int] | None = None) -> SharedBody:
    """The skeleton and each member's substitutions for bodies of one shape.

    The caller packed them with `RequestPacking`, so the limits hold; `variable` is the
    packing's set of differing positions (any superset of the members' differences will do,
    e.g. after some members were dropped), computed here when not given.
    """
    first = bodies[0]
    if variable is None:
        variable = set()
        for body in bodies[1:]:
            variable |= differing_pieces(first.pieces, body.pieces)
    text_pieces = first.text_pieces or 0
    runs = variable_runs(variable, text_pieces)
    separators = [TEXT_SEPARATOR if start < text_pieces else HTML_SEPARATOR for start, _ in runs]
    values = [
        [
            sep.join(body.pieces[start:stop])
            for sep, (start, stop) in zip(separators, runs, strict=True)
        ]
        for body in bodies
    ]
    marker = _fresh_marker("".join(first.pieces), values)
    tags = [f"-{marker}x{k}-" for k in range(len(runs))]
    skeleton: list[str | None] = list(first.pieces)
    for tag, (start, stop) in zip(tags, runs, strict=True):
        skeleton[start:stop] = [tag] + [None] * (stop - start - 1)  # one tag stands for the run
    text = TEXT_SEPARATOR.join(p for p in skeleton[:text_pieces] if p is not None)
    html = HTML_SEPARATOR.join(p for p in skeleton[text_pieces:] if p is not None)
    return SharedBody(
        text if first.text_pieces is not None else None,
        html if first.html_pieces is not None else None,
        [dict(zip(tags, member, strict=True)) for member in values] if runs else [],
    )


def _fresh_marker(constant: str, values: list[list[str]]) -> str:
    """A tag prefix found nowhere in the request's text (the shared part and every value)."""
    while True:
        marker = f"tm{secrets.token_hex(8)}"
        if marker not in constant and not any(marker in v for member in values for v in member):
            return marker
