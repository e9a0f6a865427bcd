"""A segment: its dbt definition and owner, size history, reach and what each guardrail
excludes, and a sample of members."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.reads.segments import UnknownSegmentError, read_segment
from api.state import State
from dashboards.access import SignedIn
from dashboards.charts import Series, bar_chart, line_chart
from dashboards.templating import render
from dashboards.unavailable import or_unavailable

router = APIRouter(include_in_schema=False)


@router.get("/segments/{name}")
def segment_page(request: Request, state: State, caller: SignedIn, name: str) -> Response:
    try:
        data = or_unavailable(lambda: read_segment(state, name))
    except UnknownSegmentError as error:
        return render(
            request,
            "problem.html",
            caller,
            heading="No such segment",
            message=str(error),
            status_code=404,
        )
    history = line_chart(
        [
            Series(
                "members",
                [(point.day.strftime("%Y-%m-%d"), point.members) for point in data.size_history],
            )
        ],
        label=f"{data.segment.label}: members at each activation run, per day",
        empty_message="No history yet: sizes are recorded each time an activation plans",
    )
    exclusions = {
        reach.channel: bar_chart(
            sorted(reach.excluded.items(), key=lambda item: -item[1]),
            label=f"Members excluded on {reach.channel}, by guardrail",
            empty_message="No member is excluded on this channel",
        )
        for reach in data.reach
    }
    return render(
        request, "segment.html", caller, data=data, history=history, exclusions=exclusions
    )
