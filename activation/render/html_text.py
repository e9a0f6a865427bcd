"""The plain-text alternative of an HTML email.

Spam filters and text-only clients expect a `text/plain` part that says what the HTML says,
links included: headings and paragraphs become lines, `<a href="u">text</a>` becomes
"text (u)", styles, scripts, the `<head>` and hidden elements (preheaders, Outlook-only
markup) disappear, whitespace collapses.

The conversion normally runs once per template, on HTML whose Jinja constructs are hidden
behind tokens (see `placeholders`), and its result is compiled as the text template: so
`keep_statements` names tokens that must survive even where the markup around them is dropped
(a `{% if %}` inside a class attribute still pairs with its `{% endif %}`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

_SKIPPED = frozenset({"head", "style", "script", "title", "template", "noscript", "svg", "object"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source"}
    | {"track", "wbr"}
)
_PARAGRAPH = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "pre", "hr"}
)
_LINE = frozenset(
    {"div", "tr", "li", "br", "section", "article", "header", "footer", "center", "dl", "dt"}
    | {"dd", "form", "caption", "address", "figure", "figcaption", "main", "nav", "aside"}
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all", re.I)
_BLANK_RUNS = re.compile(r"\n{3,}")
# Tags mark line and paragraph breaks; a run of marks (and the spaces between) is one break.
_LINE_MARK, _PARAGRAPH_MARK = "\x00", "\x01"
_MARK_RUN = re.compile(r"\s*[\x00\x01][\s\x00\x01]*")
_NO_LINK = ("#", "javascript:", "data:")


def tidy_text(text: str) -> str:
    """Collapse the spaces in each line and keep at most one blank line in a row."""
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


class _TextExtractor(HTMLParser):
    def __init__(self, keep_statements: Callable[[str], list[str]] | None) -> None:
        super().__init__(convert_charrefs=True)
        self._keep_statements = keep_statements
        self._out: list[str] = []
        self._skip_tag: str | None = None
        self._skip_depth = 0
        self._links: list[tuple[str, int]] = []  # (href, where its label starts in the output)
        self._list_depth = 0

    @property
    def text(self) -> str:
        marked = "".join(self._out)
        return tidy_text(
            _MARK_RUN.sub(lambda run: "\n\n" if _PARAGRAPH_MARK in run.group() else "\n", marked)
        )

    def _statements(self, fragment: str) -> list[str]:
        return self._keep_statements(fragment) if self._keep_statements else []

    def _keep_dropped(self, fragment: str, unless_in: str = "") -> None:
        for statement in self._statements(fragment):
            if statement not in unless_in:
                self._out.append(statement)

    def _break(self, tag: str) -> None:
        self._out.append(_PARAGRAPH_MARK if tag in _PARAGRAPH else _LINE_MARK)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or ""
        attributes = {name: value or "" for name, value in attrs}
        if self._skip_tag is not None:
            self._keep_dropped(raw)
            if tag == self._skip_tag:
                self._skip_depth += 1
            return
        if tag in _SKIPPED or _HIDDEN_STYLE.search(attributes.get("style", "")):
            self._keep_dropped(raw)
            if tag not in _VOID:
                self._skip_tag, self._skip_depth = tag, 1
            return
        href = attributes.get("href", "").strip()
        self._keep_dropped(raw, unless_in=href if tag == "a" else "")
        if tag in _PARAGRAPH or tag in _LINE:
            self._break(tag)
        if tag == "li":
            self._out.append("- ")
        elif tag == "a":
            self._links.append((href, len(self._out)))
        elif tag == "img" and self._links:
            self._out.append(attributes.get("alt", ""))
        elif tag in ("td", "th"):
            self._out.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth -= 1
                if self._skip_depth == 0:
                    self._skip_tag = None
            return
        if tag == "a" and self._links:
            href, start = self._links.pop()
            label = " ".join("".join(self._out[start:]).split())
            del self._out[start:]
            self._out.append(_link_text(label, href))
        elif tag in _PARAGRAPH or tag in _LINE:
            self._break(tag)

    def handle_data(self, data: str) -> None:
        if self._skip_tag is not None:
            self._keep_dropped(data)
            return
        self._out.append(data.replace("\r", " ").replace("\n", " "))  # lines come from tags

    def handle_comment(self, data: str) -> None:
        self._keep_dropped(data)

    def unknown_decl(self, data: str) -> None:
        self._keep_dropped(data)


def _link_text(label: str, href: str) -> str:
    if not href or href.lower().startswith(_NO_LINK):
        return label
    if not label:
        return href
    plain = href[len("mailto:") :] if href.lower().startswith("mailto:") else href
    if label in (href, plain):
        return label
    return f"{label} ({href})"


def html_to_text(html: str, keep_statements: Callable[[str], list[str]] | None = None) -> str:
    """The readable text of `html`, links kept as "text (url)"."""
    extractor = _TextExtractor(keep_statements)
    extractor.feed(html)
    extractor.close()
    return extractor.text
