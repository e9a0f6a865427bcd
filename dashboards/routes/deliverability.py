"""Deliverability: delivery, bounce and complaint rates by day and by mailbox domain, with
Gmail's bulk-sender spam-rate lines (0.1% target, 0.3% ceiling) drawn on the complaint
charts."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.reads.deliverability import read_deliverability
from api.state import State
from dashboards.access import SignedIn
from dashboards.charts import Reference, Series, bar_chart, line_chart, percent
from dashboards.templating import render
from dashboards.unavailable import or_unavailable

router = APIRouter(include_in_schema=False)

WINDOWS = (7, 30, 90)


@router.get("/deliverability")
def deliverability_page(
    request: Request,
    state: State,
    caller: SignedIn,
    days: int = Query(default=30, ge=1, le=365),
) -> Response:
    data = or_unavailable(lambda: read_deliverability(state, days))
    gmail = [
        Reference(data.complaint_target, "Gmail target 0.1%"),
        Reference(data.complaint_ceiling, "Gmail limit 0.3%"),
    ]

    def daily(field: str) -> Series:
        return Series(
            field.replace("_", " "),
            [
                (day.day.strftime("%m-%d"), getattr(day, field))
                for day in data.by_day
                if getattr(day, field) is not None
            ],
        )

    charts = {
        "complaints_by_day": line_chart(
            [daily("complaint_rate")],
            label="Complaint (spam) rate by day, with Gmail's 0.1% and 0.3% lines",
            fmt=percent,
            references=gmail,
        ),
        "rates_by_day": line_chart(
            [daily("delivery_rate"), daily("bounce_rate")],
            label="Delivery and bounce rates by day",
            fmt=percent,
        ),
        "complaints_by_domain": bar_chart(
            [
                (d.mailbox_domain, d.complaint_rate)
                for d in data.by_domain
                if d.complaint_rate is not None
            ],
            label="Complaint rate by mailbox domain, with Gmail's 0.1% and 0.3% lines",
            fmt=percent,
            references=gmail,
        ),
        "bounces_by_domain": bar_chart(
            [
                (d.mailbox_domain, d.bounce_rate)
                for d in data.by_domain
                if d.bounce_rate is not None
            ],
            label="Bounce rate by mailbox domain",
            fmt=percent,
        ),
    }
    return render(request, "deliverability.html", caller, data=data, charts=charts, windows=WINDOWS)
