"""The dashboards' Jinja2 environment: templates, filters, and the one way pages render.

Templates are autoescaped (Starlette's default for .html), so values from the warehouse or
the ops store can never inject markup; charts arrive as `Markup` built by `dashboards.charts`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from dashboards.access import PageCaller
from dashboards.charts import percent
from dashboards.csrf import CSRF_FIELD

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")


def _number(value: float | int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _when(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


HEALTH_LABELS = {"good": "healthy", "warning": "watch", "bad": "at risk", "no_data": "no data yet"}
"""How deliverability health reads to a marketer (complaints vs Gmail's 0.1% / 0.3%)."""

TEMPLATES.env.filters["number"] = _number
TEMPLATES.env.filters["health"] = lambda v: HEALTH_LABELS.get(v, v)
TEMPLATES.env.filters["percent"] = lambda v: "—" if v is None else percent(v)
TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.globals["CSRF_FIELD"] = CSRF_FIELD


def render(
    request: Request,
    template: str,
    caller: PageCaller | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """Render a page with the caller (for role-gated controls) and its form token."""
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"caller": caller, **context},
        status_code=status_code,
    )
