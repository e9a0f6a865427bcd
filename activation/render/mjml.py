"""MJML to HTML, once per template, with the template's Jinja left intact.

MJML is compiled before any recipient is rendered (compiling it per recipient would cost
milliseconds each); the resulting HTML is then the Jinja template. The Jinja constructs are
hidden from the MJML compiler (see `placeholders`) so that expressions in attributes,
comparisons like `{{ a < b }}` and `{% for %}` around whole sections survive it; if the
compiler dropped or repeated a tag, the template is refused rather than changed. MJML
`<mj-include>` is disabled: a template cannot read files or URLs.
"""

from __future__ import annotations

import mrml

from activation.render.errors import TemplateCompileError
from activation.render.placeholders import protect


def mjml_to_html_template(source: str, *, part: str = "mjml") -> str:
    """The HTML Jinja template for an MJML Jinja template."""
    protected = protect(source, part=part, comment_statements=True)
    options = mrml.ParserOptions(include_loader=mrml.noop_loader())
    try:
        compiled = mrml.to_html(protected.text, parser_options=options)
    except Exception as error:  # mrml raises OSError for markup it cannot parse
        raise TemplateCompileError(f"the MJML does not compile: {error}", part=part) from None
    problems = protected.problems(compiled.content)
    if problems:
        raise TemplateCompileError(
            f"the MJML compiler {'; '.join(problems)}; place Jinja tags inside mj-text or "
            "mj-raw content, in attribute values, or around whole sections",
            part=part,
        )
    return protected.restore(compiled.content)
