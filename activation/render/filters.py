"""The filters a template may use: a small, bounded set a marketer needs for a message.

Jinja's full filter list includes some that reach into objects (`attr`, `map`) or can build
huge strings from a short template (`center`, `indent`, `wordwrap`); templates get only the
names below. Filters whose output can grow (case changes, escaping, URL-encoding, `join`,
`replace`) check the size of what they build against the render's limits, so chaining them
cannot exhaust memory.

Dates: `date` and `datetime` convert to a time zone before formatting: the one named in the
call, else the recipient's (`time_zone` column), else the activation's default. Naive
timestamps are UTC (the warehouse convention). NULL dates and amounts render as "".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import filters as jinja_filters
from jinja2.nodes import EvalContext
from jinja2.runtime import Undefined
from jinja2.utils import pass_eval_context
from markupsafe import escape

from activation.render.errors import TemplateRenderError
from activation.render.limits import active_budget

_CENTS = Decimal("0.01")


def _size_checked(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter whose output can be longer than its input with a size check."""

    @functools.wraps(function)  # keeps Jinja's pass_* marker
    def checked(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if isinstance(result, str):
            active_budget().check_size(len(result), f"the filter {name!r}")
        return result

    return checked


def default(value: Any, default_value: Any = "", boolean: bool = False) -> Any:
    """`value`, or `default_value` when it is undefined or NULL (or falsy, with boolean=true).

    Unlike Jinja's own `default`, NULL counts as missing: a warehouse column is NULL far more
    often than it is absent, and "Hi None" is the bug marketers meet first.
    """
    if isinstance(value, Undefined) or value is None or (boolean and not value):
        return default_value
    return value


def _decimal(value: Any, filter_name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise TemplateRenderError(
            f"the filter {filter_name!r} expects a number, got a {type(value).__name__}"
        )
    try:
        # str() first: Decimal(2.675) is 2.67499..., Decimal("2.675") rounds as people expect.
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise TemplateRenderError(
            f"the filter {filter_name!r} expects a number, got text that is not one"
        ) from None
    if not number.is_finite():
        raise TemplateRenderError(f"the filter {filter_name!r} expects a finite number")
    return number


def money(value: Any, symbol: str = "") -> str:
    """An amount with two decimals (half up) and thousands separators: 1234.5 → "1,234.50"."""
    if value is None:
        return ""
    if type(value) is int:  # the common case, without Decimal arithmetic
        return f"{'-' if value < 0 else ''}{symbol}{abs(value):,}.00"
    amount = _decimal(value, "money").quantize(_CENTS, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"


@functools.lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; a clear error when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TemplateRenderError(f"unknown time zone {name!r}") from None


def _as_datetime(value: Any, filter_name: str) -> datetime | date:
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            raise TemplateRenderError(
                f"the filter {filter_name!r} expects a date, a timestamp or ISO 8601 text"
            ) from None
    raise TemplateRenderError(
        f"the filter {filter_name!r} expects a date or a timestamp, got a {type(value).__name__}"
    )


def _in_zone(moment: datetime, tz: str | None) -> datetime:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone(tz or active_budget().default_timezone))


def format_datetime(value: Any, format: str = "%Y-%m-%d %H:%M", tz: str | None = None) -> str:
    """A timestamp in the recipient's (or `tz`'s) local time, formatted with strftime."""
    if value is None:
        return ""
    moment = _as_datetime(value, "datetime")
    if isinstance(moment, datetime):
        moment = _in_zone(moment, tz)
    return moment.strftime(format)


def format_date(value: Any, format: str = "%Y-%m-%d", tz: str | None = None) -> str:
    """The calendar date of a timestamp in the recipient's (or `tz`'s) time zone, or a date."""
    if value is None:
        return ""
    moment = _as_datetime(value, "date")
    if isinstance(moment, datetime):
        moment = _in_zone(moment, tz).date()
    return moment.strftime(format)


@pass_eval_context
def join(eval_ctx: EvalContext, value: Iterable[Any], separator: str = "") -> str:
    """Items joined by `separator` (escaped in HTML), size-checked before it is built."""
    items = list(value)
    budget = active_budget()
    budget.check_size(len(items), "the filter 'join'")
    sep: str = escape(separator) if eval_ctx.autoescape else str(separator)
    texts: list[str] = [escape(i) if eval_ctx.autoescape else str(i) for i in items]
    size = sum(len(text) for text in texts) + len(sep) * max(len(texts) - 1, 0)
    budget.check_size(size, "the filter 'join'")
    return sep.join(texts)  # an escaped separator is Markup, so the result stays Markup


@pass_eval_context
def replace(eval_ctx: EvalContext, value: Any, old: str, new: str, count: int | None = None) -> str:
    """`value` with `old` replaced by `new`, size-checked before it is built."""
    text, old, new = str(value), str(old), str(new)
    hits = text.count(old) if old else len(text) + 1
    if count is not None:
        hits = min(hits, max(count, 0))
    active_budget().check_size(len(text) + hits * (len(new) - len(old)), "the filter 'replace'")
    result: str = jinja_filters.do_replace(eval_ctx, value, old, new, count)
    return result


def _builtin(name: str) -> Callable[..., Any]:
    function: Callable[..., Any] = jinja_filters.FILTERS[name]
    return function


_GROWING_BUILTINS = ("title", "upper", "lower", "capitalize", "urlencode", "escape", "e")
_BOUNDED_BUILTINS = (
    *("trim", "truncate", "length", "count", "first", "last", "int", "float", "abs", "round"),
    *("wordcount", "striptags"),
)

SAFE_FILTERS: dict[str, Callable[..., Any]] = {
    **{name: _size_checked(name, _builtin(name)) for name in _GROWING_BUILTINS},
    **{name: _builtin(name) for name in _BOUNDED_BUILTINS},
    "default": default,
    "d": default,
    "money": money,
    "date": format_date,
    "datetime": format_datetime,
    "join": join,
    "replace": replace,
}
"""Every filter a template may use, by name."""
