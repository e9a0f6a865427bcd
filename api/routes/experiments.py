"""`/api/v1/experiments`: experiment results as the warehouse computes them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import Viewer
from api.reads.experiments import ExperimentResults, read_experiment_results
from api.request_body import JsonApiRoute
from api.state import State

router = APIRouter(prefix="/api/v1/experiments", tags=["experiments"], route_class=JsonApiRoute)


@router.get("")
def list_experiment_results(
    state: State,
    _caller: Viewer,
    experiment: Annotated[str | None, Query(max_length=200)] = None,
) -> ExperimentResults:
    """Rows of `analytics.experiment_results` (empty, with a note, before it is built)."""
    return read_experiment_results(state, experiment)
