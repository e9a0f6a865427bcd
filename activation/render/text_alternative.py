"""The text/plain part of an email whose template has none: derived from the HTML template.

Deriving text from each recipient's rendered HTML would parse ~20 KB of HTML per message,
slower than everything else rendering does. So the HTML *template* is converted once, with
its Jinja constructs hidden behind tokens, and the result is compiled as a text template
(not autoescaped). Statement tags inside markup the text drops (a class attribute, a style
block) are kept where they were, so `{% if %}`/`{% endif %}` stay paired, and a line holding
only statement tags is joined to the line after it, so a false `{% if %}` or an empty loop
leaves no blank lines (no per-message clean-up needed). When that cannot work (a tag was
dropped or repeated, or the text does not compile), `text_from_html` converts each rendered
HTML instead: slower, never wrong.
"""

from __future__ import annotations

from activation.render.errors import TemplateError
from activation.render.html_text import html_to_text
from activation.render.limits import RenderLimits
from activation.render.placeholders import ProtectedSource, protect
from activation.render.sandbox import CompiledPart, compile_part

DERIVED_TEXT_PART = "text (derived from the HTML)"


def derive_text_template(html_template: str, limits: RenderLimits) -> CompiledPart | None:
    """The compiled text template for `html_template`, or None to derive per message."""
    try:
        protected = protect(html_template, part=DERIVED_TEXT_PART)
        text = html_to_text(protected.text, keep_statements=protected.statements_in)
        text = _attach_statement_lines(text, protected)
        if protected.problems(text, text_only=True):
            return None
        return compile_part(
            protected.restore(text),
            part=DERIVED_TEXT_PART,
            html=False,
            limits=limits,
            max_source=limits.max_output_chars,
            with_line=False,
        )
    except TemplateError:
        return None


def _attach_statement_lines(text: str, protected: ProtectedSource) -> str:
    """Put each statement-only line in front of the next line of text (blank lines between go).

    The text's lines then belong to the statements' bodies: a loop repeats whole lines, and a
    false `{% if %}` removes whole lines, leaving the paragraph breaks around it as they were.
    """
    lines: list[str] = []
    waiting = ""  # statements looking for the next line of text
    for line in text.split("\n"):
        if protected.only_statements(line):
            waiting += line.strip()
        elif waiting and not line:
            continue
        else:
            lines.append(waiting + line)
            waiting = ""
    if waiting:  # statements after the last text: at the end of the last line
        if lines:
            lines[-1] += waiting
        else:
            lines.append(waiting)
    return "\n".join(lines)


def text_from_html(html: str) -> str:
    """The text alternative of one rendered HTML body (the per-message fallback)."""
    return html_to_text(html)
