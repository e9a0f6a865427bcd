"""Many personalised emails as one body: a shared skeleton plus per-recipient substitutions.

SendGrid's mail/send takes one body per request and up to 1000 personalizations; each
personalization may carry `substitutions` (tag → text) that SendGrid replaces in the body for
that recipient alone. Emails rendered from one template differ in a few lines (a name, a
link, the signed unsubscribe URL) and agree everywhere else. So each body is compared, line
by line, with the request's first one; the lines where any member differs become tags in the
shared body, and each member carries its own text for them (adjacent lines share one tag).
Put back together, every recipient's email is exactly the one rendered for them.

SendGrid allows at most 100 substitutions and 10,000 bytes of them (tags and values) per
personalization; `RequestPacking.admit` refuses a message that would break either, so the
caller starts another request instead of letting the provider refuse one. Tags carry a random
marker that appears nowhere in the request's text, so no template text can pass for a tag.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

MAX_SUBSTITUTIONS = 100
MAX_SUBSTITUTION_BYTES = 10_000
_TAG_BYTES = 24  # "-tm" + 16 hex digits + "x" + index + "-", with room to spare


@dataclass(frozen=True)
class BodyLines:
    """An email's text and HTML parts as one list of lines (text first)."""

    lines: list[str]
    text_lines: int | None  # None: the email has no text part
    html_lines: int | None  # None: no HTML part

    @classmethod
    def of(cls, text: str | None, html: str | None) -> BodyLines:
        text_part = text.split("\n") if text is not None else []
        html_part = html.split("\n") if html is not None else []
        return cls(
            text_part + html_part,
            len(text_part) if text is not None else None,
            len(html_part) if html is not None else None,
        )

    @property
    def shape(self) -> tuple[int | None, int | None]:
        """Bodies share a skeleton only when their parts have the same number of lines."""
        return (self.text_lines, self.html_lines)


def differing_lines(reference: Sequence[str], lines: Sequence[str]) -> set[int]:
    return {i for i, (a, b) in enumerate(zip(reference, lines, strict=True)) if a != b}


def variable_runs(positions: set[int], text_lines: int) -> list[tuple[int, int]]:
    """Maximal runs `[start, stop)` of adjacent variable lines, never across text → HTML."""
    runs: list[tuple[int, int]] = []
    for position in sorted(positions):
        if runs and runs[-1][1] == position and position != text_lines:
            runs[-1] = (runs[-1][0], position + 1)
        else:
            runs.append((position, position + 1))
    return runs


def _substitution_bytes(lines: Sequence[str], runs: list[tuple[int, int]]) -> int:
    size = len(runs) * _TAG_BYTES
    for start, stop in runs:
        size += sum(len(line.encode()) + 1 for line in lines[start:stop])
    return size


class RequestPacking:
    """The members one request can carry with one shared body, within SendGrid's limits."""

    def __init__(self, index: int, body: BodyLines) -> None:
        self.reference = body.lines
        self.text_lines = body.text_lines or 0
        self.members: dict[int, list[str]] = {index: body.lines}
        self.variable: set[int] = set()
        self.runs: list[tuple[int, int]] = []

    def admit(self, index: int, body: BodyLines) -> bool:
        """Add the message if the shared body can still carry every member; say whether."""
        variable = self.variable | differing_lines(self.reference, body.lines)
        if len(variable) == len(self.variable):
            if _substitution_bytes(body.lines, self.runs) > MAX_SUBSTITUTION_BYTES:
                return False
            self.members[index] = body.lines
            return True
        runs = variable_runs(variable, self.text_lines)
        if len(runs) > MAX_SUBSTITUTIONS:
            return False
        everyone = [*self.members.values(), body.lines]
        if any(_substitution_bytes(lines, runs) > MAX_SUBSTITUTION_BYTES for lines in everyone):
            return False
        self.members[index] = body.lines
        self.variable, self.runs = variable, runs
        return True


@dataclass(frozen=True)
class SharedBody:
    text: str | None
    html: str | None
    substitutions: list[dict[str, str]]  # one per member, in order; empty when all agree


def shared_body(bodies: Sequence[BodyLines]) -> SharedBody:
    """The skeleton and each member's substitutions for bodies of one shape.

    The caller packed them with `RequestPacking`, so the limits hold.
    """
    first = bodies[0]
    variable: set[int] = set()
    for body in bodies[1:]:
        variable |= differing_lines(first.lines, body.lines)
    text_lines = first.text_lines or 0
    runs = variable_runs(variable, text_lines)
    values = [["\n".join(body.lines[start:stop]) for start, stop in runs] for body in bodies]
    constant = "\n".join(first.lines)
    marker = _fresh_marker(constant, values)
    tags = [f"-{marker}x{k}-" for k in range(len(runs))]
    skeleton = list(first.lines)
    for tag, (start, stop) in zip(tags, runs, strict=True):
        skeleton[start:stop] = [tag] + [""] * (stop - start - 1)
    dropped = {i for start, stop in runs for i in range(start + 1, stop)}
    kept = [(i, line) for i, line in enumerate(skeleton) if i not in dropped]
    text = "\n".join(line for i, line in kept if i < text_lines)
    html = "\n".join(line for i, line in kept if i >= text_lines)
    return SharedBody(
        text if first.text_lines is not None else None,
        html if first.html_lines is not None else None,
        [dict(zip(tags, member, strict=True)) for member in values] if runs else [],
    )


def _fresh_marker(constant: str, values: list[list[str]]) -> str:
    """A tag prefix found nowhere in the request's text (the shared part and every value)."""
    while True:
        marker = f"tm{secrets.token_hex(8)}"
        if marker not in constant and not any(marker in v for member in values for v in member):
            return marker
