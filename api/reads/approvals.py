"""Runs held for approval: their plan exceeded the activation's size limits (or an anomaly
check stopped them), and nothing is sent until an admin approves."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from api.reads.runs import RunList, read_run
from connectors.ops_store.delivery_models import ActivationRun, RunStatus

if TYPE_CHECKING:
    from api.state import AppState

MAX_HELD = 100


def held_runs(state: AppState) -> RunList:
    """The runs awaiting approval, newest first, with their counts and reasons."""
    with state.sessions() as session:
        run_ids = list(
            session.scalars(
                select(ActivationRun.run_id)
                .where(ActivationRun.status == RunStatus.AWAITING_APPROVAL)
                .order_by(ActivationRun.started_at.desc())
                .limit(MAX_HELD)
            )
        )
    data = [run for run in (read_run(state, run_id) for run_id in run_ids) if run is not None]
    return RunList(data=data, count=len(data))
