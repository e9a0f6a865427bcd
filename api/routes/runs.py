"""`/api/v1/runs`: activation runs, their live progress, and approving held ones (admin).

Approval releases a plan held by its size limit or an anomaly: the run's stored plan is
enqueued and delivered. That writes the warehouse, which the API never does: the approval is
queued in the ops store as a request (kind `approve`) and Dagster's request sensor carries it
out, like a trigger. Until then the run stays `awaiting_approval` with its `approval` pending;
the caller follows it at `GET /api/v1/runs/{run_id}`. The request is audited here, the
approval itself by the engine when it runs, both in the approver's name.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from api.auth import Admin, Viewer
from api.reads.runs import MAX_RUNS, RunList, RunProgress, list_runs, read_run
from api.request_body import JsonApiRoute
from api.state import State
from connectors.ops_store.activation_requests import enqueue_request, open_approval
from connectors.ops_store.audit import record_audit
from connectors.ops_store.delivery_models import RunStatus
from connectors.ops_store.engine import write_transaction
from connectors.ops_store.models import RequestKind

router = APIRouter(prefix="/api/v1/runs", tags=["runs"], route_class=JsonApiRoute)

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


@router.post("/{run_id}/approve", status_code=status.HTTP_202_ACCEPTED)
def approve(state: State, caller: Admin, run_id: str = RunId) -> RunProgress:
    """Release a run held for approval: queued at once, carried out by Dagster after this
    answer. Approving again while the approval waits returns the same one."""
    run = read_run(state, run_id)
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run {run_id!r}")
    if run.status != RunStatus.AWAITING_APPROVAL.value:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"run {run_id} is {run.status}; only a run awaiting approval can be approved",
        )
    with write_transaction(state.sessions) as session:
        if open_approval(session, run_id) is None:
            request = enqueue_request(
                session,
                activation_name=run.activation,
                requested_by=caller.actor,
                kind=RequestKind.APPROVE,
                run_id=run_id,
            )
            record_audit(
                session,
                actor=caller.actor,
                action="activation_run.approve_requested",
                resource_type="activation_run",
                resource_id=run_id,
                before={"status": run.status},
                after={"request_id": request.request_id, "status": request.status.value},
            )
    queued = read_run(state, run_id)
    assert queued is not None
    return queued
