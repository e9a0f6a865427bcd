"""`/api/v1/overview` and `/api/v1/deliverability`: the numbers the dashboards open with."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import Viewer
from api.reads.deliverability import DEFAULT_DAYS, Deliverability, read_deliverability
from api.reads.overview import Overview, read_overview
from api.request_body import JsonApiRoute
from api.state import State

router = APIRouter(prefix="/api/v1", tags=["overview"], route_class=JsonApiRoute)


@router.get("/overview")
def get_overview(state: State, _caller: Viewer) -> Overview:
    """Profiles, reach per channel, segments with trends, recent runs, deliverability health."""
    return read_overview(state)


@router.get("/deliverability")
def get_deliverability(
    state: State,
    _caller: Viewer,
    days: Annotated[int, Query(ge=1, le=365)] = DEFAULT_DAYS,
) -> Deliverability:
    """Delivery, bounce and complaint rates by day and by mailbox domain."""
    return read_deliverability(state, days)
