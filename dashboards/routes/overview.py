"""The overview: profiles, reach per channel, segments with sizes and trend, recent runs,
deliverability health."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.reads.overview import read_overview
from api.state import State
from dashboards.access import SignedIn
from dashboards.charts import Series, line_chart
from dashboards.templating import render
from dashboards.unavailable import or_unavailable

router = APIRouter(include_in_schema=False)


@router.get("/")
def overview_page(request: Request, state: State, caller: SignedIn) -> Response:
    data = or_unavailable(lambda: read_overview(state))
    trend = line_chart(
        [
            Series(
                segment.label,
                [(point.day.strftime("%m-%d"), point.members) for point in segment.size_history],
            )
            for segment in data.segments
            if segment.size_history
        ],
        label="Segment sizes at each activation run, per day",
        empty_message="No size history yet: sizes are recorded each time an activation plans",
    )
    return render(request, "overview.html", caller, data=data, trend=trend)
