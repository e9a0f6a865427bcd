"""Activation runs and their live progress, from the ops store (the source of truth while a run
is live; the warehouse copy in `tidemark.activation_runs` lags behind).

Counts come from one grouped query over the outbox for the runs asked about, reused for a
second per run (`ledger_counts`): planned comes from the run's stored plan, the others from
the ledger's message states.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.run_counts import run_counts
from api.reads.ledger_counts import LedgerCounts
from connectors.ops_store.activation_requests import get_request, open_approval
from connectors.ops_store.delivery_models import ActivationRun, RunStatus

if TYPE_CHECKING:
    from api.state import AppState

DAGSTER_UI_URL = "http://127.0.0.1:3000"
"""Where `make demo` serves the Dagster UI; run links point there."""

MAX_RUNS = 200


class RunProgress(BaseModel):
    """One run (or dry run, or a request not yet started) and where its messages stand."""

    run_id: str
    activation: str
    kind: str = Field(description="run or dry_run")
    status: str = Field(
        description="pending/launched (requested, not started), planning, awaiting_approval, "
        "enqueued, delivering, deferred, completed, failed, cancelled, skipped, planned (dry run)"
    )
    reason: str | None = None
    requested_by: str
    started_at: datetime | None = None
    planned_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    planned: int = 0
    sent: int = 0
    failed: int = 0
    excluded: int = 0
    in_doubt: int = 0
    pending: int = Field(default=0, description="Planned messages not yet sent or failed.")
    cancelled: int = 0
    plan: dict[str, Any] | None = Field(
        default=None, description="The plan's counts: members, added, excluded by reason…"
    )
    dagster_run_url: str | None = None
    approval: str | None = Field(
        default=None,
        description="A held run's queued approval: pending or launched until Dagster has "
        "carried it out (the run then moves on from awaiting_approval).",
    )
    approval_requested_by: str | None = None


class RunList(BaseModel):
    data: list[RunProgress]
    count: int


def dagster_run_url(run_id: str, requested_by: str) -> str | None:
    """The Dagster UI page of the run that carried this one out, when Dagster ran it."""
    if requested_by.startswith("dagster:"):
        return f"{DAGSTER_UI_URL}/runs/{quote(requested_by.removeprefix('dagster:'))}"
    if requested_by.startswith("request:"):
        # Requests launch with run_key = request id = our run id.
        return f"{DAGSTER_UI_URL}/runs?q%5B%5D={quote(f'tag:dagster/run_key={run_id}')}"
    return None


def _progress(run: ActivationRun, ledger: dict[str, int]) -> RunProgress:
    totals = run_counts(run.plan, ledger)
    return RunProgress(
        run_id=run.run_id,
        activation=run.activation,
        kind=run.kind,
        status=run.status.value,
        reason=run.status_reason,
        requested_by=run.requested_by,
        started_at=run.started_at,
        planned_at=run.planned_at,
        finished_at=run.finished_at,
        updated_at=run.updated_at,
        planned=totals.planned or 0,
        sent=totals.sent,
        failed=totals.failed,
        excluded=totals.excluded,
        in_doubt=totals.in_doubt,
        pending=totals.pending,
        cancelled=totals.cancelled,
        plan=run.plan,
        dagster_run_url=dagster_run_url(run.run_id, run.requested_by),
    )


def recent_runs(
    session: Session, ledger: LedgerCounts, *, activation: str | None = None, limit: int = 50
) -> RunList:
    """The newest runs (of one activation, or all), with their counts."""
    query = select(ActivationRun).order_by(ActivationRun.started_at.desc(), ActivationRun.run_id)
    if activation is not None:
        query = query.where(ActivationRun.activation == activation)
    runs = list(session.scalars(query.limit(min(limit, MAX_RUNS))))
    counts = ledger.of(session, {r.run_id: r.updated_at for r in runs})
    data = [_progress(run, counts[run.run_id]) for run in runs]
    return RunList(data=data, count=len(data))


def list_runs(state: AppState, *, activation: str | None = None, limit: int = 50) -> RunList:
    with state.sessions() as session:
        return recent_runs(session, state.ledger_counts, activation=activation, limit=limit)


def read_run(state: AppState, run_id: str) -> RunProgress | None:
    """A run's progress; a request the worker has not started yet shows as pending."""
    with state.sessions() as session:
        run = session.get(ActivationRun, run_id)
        if run is not None:
            counts = state.ledger_counts.of(session, {run_id: run.updated_at})[run_id]
            progress = _progress(run, counts)
            approval = open_approval(session, run_id)
            if approval is not None and run.status is RunStatus.AWAITING_APPROVAL:
                progress.approval = approval.status.value
                progress.approval_requested_by = approval.requested_by
            return progress
        request = get_request(session, run_id)
        if request is None:
            return None
        return RunProgress(
            run_id=request.request_id,
            activation=request.activation_name,
            kind=request.kind.value,
            status=request.status.value,
            reason=request.status_reason,
            requested_by=request.requested_by,
            updated_at=request.updated_at,
            dagster_run_url=dagster_run_url(run_id, f"request:{run_id}"),
        )
