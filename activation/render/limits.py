"""How large a template and its output may be, and how much work one render may do.

Templates are written by marketers, not engineers, and run once per recipient: a loop that
never ends or a string that doubles forty times must fail one render with a clear reason
instead of taking the delivery worker down. Loops, macro calls and string-building operators
draw from a per-render budget held in a context variable, so the guards (which Jinja calls
without our arguments) find the budget of the render they belong to, also across threads.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass

from activation.render.errors import TemplateLimitError


@dataclass(frozen=True)
class RenderLimits:
    """Limits applied at compile time (source) and on every render (output, work)."""

    max_source_chars: int = 256_000  # one template part (subject, body, text, payload leaf)
    max_output_chars: int = 1_000_000  # one rendered part
    max_string_chars: int = 100_000  # any string or list a template builds while rendering
    max_range: int = 1_000  # the largest range() a template may ask for
    max_operations: int = 10_000  # loop iterations + macro calls in one render
    max_sms_chars: int = 1_600  # the longest body SMS providers accept (Twilio: 1,600)
    max_subject_chars: int = 998  # RFC 5322 line length

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"RenderLimits.{name} must be a positive integer, got {value!r}")


DEFAULT_LIMITS = RenderLimits()


class RenderBudget:
    """The work one render may still do; guards spend from it."""

    __slots__ = ("default_timezone", "limits", "operations")

    def __init__(self, limits: RenderLimits, default_timezone: str = "UTC") -> None:
        self.limits = limits
        self.operations = 0
        self.default_timezone = default_timezone

    def spend(self, count: int = 1) -> None:
        self.operations += count
        if self.operations > self.limits.max_operations:
            raise TemplateLimitError(
                f"the template does more than {self.limits.max_operations:,} loop iterations "
                "and macro calls for one recipient; check for a runaway loop"
            )

    def check_size(self, size: int, what: str) -> None:
        if size > self.limits.max_string_chars:
            raise TemplateLimitError(
                f"{what} would build a value of {size:,} items, more than the limit of "
                f"{self.limits.max_string_chars:,}"
            )


_active_budget: ContextVar[RenderBudget | None] = ContextVar("tidemark_render_budget", default=None)


def active_budget() -> RenderBudget:
    """The budget of the render in progress (defaults apply outside a render)."""
    budget = _active_budget.get()
    return budget if budget is not None else RenderBudget(DEFAULT_LIMITS)


class RenderScope:
    """`with RenderScope(limits, tz):` gives one recipient's render a fresh budget."""

    __slots__ = ("_budget", "_token")

    def __init__(self, limits: RenderLimits, default_timezone: str = "UTC") -> None:
        self._budget = RenderBudget(limits, default_timezone)
        self._token: Token[RenderBudget | None] | None = None

    def __enter__(self) -> RenderBudget:
        self._token = _active_budget.set(self._budget)
        return self._budget

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _active_budget.reset(self._token)
