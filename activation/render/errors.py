"""The errors rendering raises, worded for the marketer who wrote the template.

Every message names the problem (the variable, the filter, the limit, the template part and,
where we know it, the line) and never echoes Python internals or secrets, so the engine can
store it as a failure reason and the dashboards can show it as is.
"""

from __future__ import annotations


class TemplateError(ValueError):
    """A template that cannot be compiled or rendered; `str(error)` is safe to show."""

    def __init__(self, message: str, *, part: str | None = None, line: int | None = None):
        self.reason = message
        self.part = part
        self.line = line
        super().__init__(self._located(message, part, line))

    @staticmethod
    def _located(message: str, part: str | None, line: int | None) -> str:
        if part is None:
            return message
        where = f"{part}, line {line}" if line is not None else part
        return f"{where}: {message}"

    def located(self, part: str, line: int | None = None) -> TemplateError:
        """The same error, told where it happened (when the raiser did not know)."""
        if self.part is not None:
            return self
        return type(self)(self.reason, part=part, line=line if line is not None else self.line)


class TemplateCompileError(TemplateError):
    """The template is not valid: a syntax error, an unknown filter, MJML that does not parse."""


class TemplateSecurityError(TemplateError):
    """The template tries to reach something templates may not touch (Python internals, files)."""


class TemplateLimitError(TemplateError):
    """The template or its output is larger, or runs longer, than the limits allow."""


class TemplateRenderError(TemplateError):
    """Rendering failed for one recipient: a missing variable, a value a filter cannot take."""


class RecipientAddressError(ValueError):
    """The recipient's address cannot be used on the channel (and could corrupt headers)."""
