"""Hide Jinja constructs behind plain tokens while another tool rewrites the markup around them.

MJML is compiled to HTML once per template, before any recipient is rendered, and the text
alternative is derived from the HTML once too. Neither the MJML compiler nor the HTML-to-text
conversion knows Jinja: `{{ price > 10 }}` is not valid markup, and a `{% for %}` between two
sections could be dropped or moved. So each construct is replaced by a token made of letters,
digits and underscores (valid in text, attributes and CSS), the tool runs, and the tokens are
put back.

Statement tags (`{% if %}`, `{% for %}`) between elements are the fragile part: MJML's CSS
inliner re-parses the HTML, and HTML parsing moves bare text out of tables ("foster
parenting"), which would move a `{% if %}` away from the content it guards. In MJML mode
such tags therefore travel as HTML comments (`<!--token-->`), which parsers keep in place, and
come back as bare tags. What the tool still did wrong (dropped or repeated a statement, put
statements out of order, moved an expression across a statement) is reported, so the caller
refuses the result instead of silently changing what the template means.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

from activation.render.errors import TemplateCompileError

# One Jinja construct: a whole {% raw %} block, a comment, a statement or an expression. String
# literals are skipped over so a "%}" or "}}" inside quotes does not end the construct.
_STRING = r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\""""
_CONSTRUCT = re.compile(
    r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}"
    r"|\{#.*?#\}"
    rf"|\{{%(?:{_STRING}|[^%'\"]|%(?!\}}))*%\}}"
    rf"|\{{\{{(?:{_STRING}|[^}}'\"]|\}}(?!\}}))*\}}\}}",
    re.DOTALL,
)
_STRAY_OPENING = re.compile(r"\{(?=[{%#])")
_RAW_BLOCK = re.compile(r"\{%-?\s*raw\b")
# MJML elements whose content is plain text or CSS, where a comment would not be a comment.
_TEXT_ONLY_ELEMENT = re.compile(r"<(mj-title|mj-preview|mj-style)\b", re.IGNORECASE)


@dataclass(frozen=True)
class ProtectedSource:
    """Markup with every Jinja construct replaced by `<prefix><index>_`."""

    text: str
    prefix: str
    constructs: tuple[str, ...]

    @property
    def _token(self) -> re.Pattern[str]:
        return re.compile(re.escape(self.prefix) + r"(\d+)_")

    @property
    def _commented_token(self) -> re.Pattern[str]:
        return re.compile(r"<!--\s*" + re.escape(self.prefix) + r"(\d+)_\s*-->")

    def is_statement(self, index: int) -> bool:
        construct = self.constructs[index]
        return construct.startswith("{%") and not _RAW_BLOCK.match(construct)

    def problems(self, transformed: str, *, text_only: bool = False) -> list[str]:
        """What the tool did to the constructs that would change the template's meaning.

        `text_only`: the tool keeps only text (HTML → plain text), so expressions may be
        dropped (an `alt` attribute) and links move (the URL follows its label).
        """
        found_order = [int(m.group(1)) for m in self._token.finditer(transformed)]
        seen = Counter(found_order)
        found = []
        for index, construct in enumerate(self.constructs):
            count = seen.get(index, 0)
            if self.is_statement(index) and count != 1:
                verb = "dropped" if count == 0 else "repeated"
                found.append(f"{verb} the tag {_short(construct)}")
            elif count == 0 and not text_only:
                found.append(f"dropped the expression {_short(construct)}")
        if not found and not text_only:
            found.extend(self._moved(found_order))
        return found

    def _moved(self, found_order: list[int]) -> list[str]:
        """Statements out of order, or expressions that changed the statement they are in."""
        statements = [i for i in range(len(self.constructs)) if self.is_statement(i)]
        output_statements = [i for i in found_order if self.is_statement(i)]
        if output_statements != statements:
            return ["changed the order of the tags"]
        moved = []
        statements_before = 0
        for index in found_order:
            if self.is_statement(index):
                statements_before += 1
            elif sum(1 for s in statements if s < index) != statements_before:
                moved.append(f"moved the expression {_short(self.constructs[index])}")
        return moved[:3]

    def restore(self, transformed: str) -> str:
        """Put the constructs back; `{{`, `{%`, `{#` the tool produced become literal text."""
        escaped = _STRAY_OPENING.sub("{{ '{' }}", transformed)
        unwrapped = self._commented_token.sub(lambda m: self.constructs[int(m.group(1))], escaped)
        return self._token.sub(lambda m: self.constructs[int(m.group(1))], unwrapped)

    def only_statements(self, fragment: str) -> bool:
        """Whether `fragment` holds statement tokens and nothing else but spaces."""
        tokens = list(self._token.finditer(fragment))
        return (
            bool(tokens)
            and all(self.is_statement(int(m.group(1))) for m in tokens)
            and not self._token.sub("", fragment).strip()
        )

    def statements_in(self, fragment: str) -> list[str]:
        """The statement tokens inside `fragment`, in order (to keep where markup is dropped)."""
        return [
            m.group(0) for m in self._token.finditer(fragment) if self.is_statement(int(m.group(1)))
        ]


def _short(construct: str, width: int = 60) -> str:
    flat = " ".join(construct.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


class _MarkupCursor:
    """Where in the markup the text read so far ends: inside a tag, inside a text-only element."""

    def __init__(self) -> None:
        self.in_tag = False
        self._quote: str | None = None
        self._opening: str | None = None  # a text-only element whose start tag is being read
        self.text_only: str | None = None  # the text-only element whose content is being read

    def read(self, markup: str) -> None:
        position = 0
        while position < len(markup):
            char = markup[position]
            if self.in_tag:
                if self._quote is not None:
                    if char == self._quote:
                        self._quote = None
                elif char in "\"'":
                    self._quote = char
                elif char == ">":
                    self.in_tag = False
                    if self._opening is not None and markup[position - 1] != "/":
                        self.text_only = self._opening
                    self._opening = None
            elif char == "<":
                following = markup[position + 1 : position + 2]
                if self.text_only is not None:
                    if markup[position + 1 :].lower().startswith(f"/{self.text_only}"):
                        self.text_only, self.in_tag = None, True
                elif following.isalpha() or following in ("/", "!"):
                    self.in_tag = True
                    element = _TEXT_ONLY_ELEMENT.match(markup, position)
                    self._opening = element.group(1).lower() if element else None
            position += 1


def protect(source: str, *, part: str, comment_statements: bool = False) -> ProtectedSource:
    """Replace every Jinja construct in `source` by a token; Jinja comments are removed.

    With `comment_statements` (MJML), statement tags between elements become `<!--token-->`.
    An opening `{{`, `{%` or `{#` that no construct closes is a typo the later Jinja compile
    would have reported; since the tool may move or escape it, it is reported here instead.
    """
    prefix = _unused_prefix(source)
    constructs: list[str] = []
    pieces: list[str] = []
    cursor = _MarkupCursor()
    position = 0
    for match in _CONSTRUCT.finditer(source):
        _refuse_unclosed(source, position, match.start(), part)
        markup = source[position : match.start()]
        pieces.append(markup)
        if comment_statements:
            cursor.read(markup)
        construct = match.group(0)
        position = match.end()
        if construct.startswith("{#"):
            continue
        token = f"{prefix}{len(constructs)}_"
        constructs.append(construct)
        between_elements = not cursor.in_tag and cursor.text_only is None
        is_statement = construct.startswith("{%") and not _RAW_BLOCK.match(construct)
        if comment_statements and is_statement and between_elements:
            token = f"<!--{token}-->"
        pieces.append(token)
    _refuse_unclosed(source, position, len(source), part)
    pieces.append(source[position:])
    return ProtectedSource("".join(pieces), prefix, tuple(constructs))


def _refuse_unclosed(source: str, start: int, end: int, part: str) -> None:
    stray = _STRAY_OPENING.search(source, start, end)
    if stray is not None:
        line = source.count("\n", 0, stray.start()) + 1
        raise TemplateCompileError(
            f"unclosed Jinja tag {_short(source[stray.start() : stray.start() + 40])!r}",
            part=part,
            line=line,
        )


def _unused_prefix(source: str) -> str:
    """A token prefix that cannot occur in `source` (derived from it, so compiles are stable)."""
    seed = hashlib.sha256(source.encode()).hexdigest()
    for start in range(0, len(seed) - 8, 8):
        prefix = f"tmj{seed[start : start + 8]}n"
        if prefix not in source:
            return prefix
    raise ValueError("cannot find a placeholder prefix absent from the template")  # unreachable
