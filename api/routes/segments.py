"""`/api/v1/segments`: the dbt project's segments, their sizes, reach and exclusions."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path, status

from api.auth import Viewer
from api.reads.segments import (
    SegmentDetail,
    SegmentList,
    UnknownSegmentError,
    read_segment,
    read_segments,
)
from api.request_body import JsonApiRoute
from api.state import State

router = APIRouter(prefix="/api/v1/segments", tags=["segments"], route_class=JsonApiRoute)

SegmentName = Path(
    pattern=r"^[a-z0-9_]{1,63}$", description="The segment model without 'segment_'."
)


@router.get("")
def list_segments(state: State, _caller: Viewer) -> SegmentList:
    """Every segment model with its size (null until it is built)."""
    return read_segments(state)


@router.get("/{name}")
def get_segment(state: State, _caller: Viewer, name: str = SegmentName) -> SegmentDetail:
    """Definition, owner and SQL from the dbt manifest; size, history, reach, a sample."""
    try:
        return read_segment(state, name)
    except UnknownSegmentError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error
