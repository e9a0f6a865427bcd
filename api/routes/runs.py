"""`/api/v1/runs`: activation runs, their live progress, and approving held ones (admin).

Approval releases a plan held by its size limit: the run's stored plan is enqueued and
delivered by the engine. It needs the warehouse (the plan lives there), so it runs after
the response, in the API process's worker threads, and the caller follows it at
`GET /api/v1/runs/{run_id}`; the engine writes the approval's audit entry.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Path, Query, status

from activation.engine import ActivationEngine, ActivationRunError
from api.auth import Admin, Viewer
from api.reads.runs import MAX_RUNS, RunList, RunProgress, list_runs, read_run
from api.state import State
from connectors.ops_store.delivery_models import RunStatus

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/runs", tags=["runs"])

RunId = Path(min_length=1, max_length=100, description="The run's (or request's) id.")


@router.get("")
def list_all(
    state: State,
    _caller: Viewer,
    activation: Annotated[str | None, Query(max_length=63)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_RUNS)] = 50,
) -> RunList:
    """The newest runs, of one activation or all, with planned/sent/failed/excluded/in-doubt."""
    return list_runs(state, activation=activation, limit=limit)


@router.get("/{run_id}")
def get_one(state: State, _caller: Viewer, run_id: str = RunId) -> RunProgress:
    """A run's live progress (a request not started yet shows as pending)."""
    run = read_run(state, run_id)
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run or request {run_id!r}")
    return run


def _approve(engine: ActivationEngine, run_id: str, actor: str) -> None:
    try:
        engine.approve(run_id, actor=actor)
    except ActivationRunError as error:  # someone else approved or cancelled meanwhile
        log.warning("approval of run %s did not proceed: %s", run_id, error)


@router.post("/{run_id}/approve", status_code=status.HTTP_202_ACCEPTED)
def approve(
    state: State, caller: Admin, background: BackgroundTasks, run_id: str = RunId
) -> RunProgress:
    """Release a run held for approval; it is enqueued and delivered after this answer."""
    run = read_run(state, run_id)
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run {run_id!r}")
    if run.status != RunStatus.AWAITING_APPROVAL.value:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"run {run_id} is {run.status}; only a run awaiting approval can be approved",
        )
    background.add_task(_approve, state.engine, run_id, caller.actor)
    return run
