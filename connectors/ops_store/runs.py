"""Activation runs and the one-run-per-activation lock.

The lock is a row keyed by activation. Taking it is an insert that either wins or finds the
holder; a holder that died (its process is gone from this host, or its heartbeat is older
than the time to live, for holders elsewhere) is replaced, and its unfinished run resumed by
the new holder — which is what makes a rerun after a crash pick up where the crash left off.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from connectors.ops_store.delivery_models import (
    FINAL_RUN_STATUSES,
    ActivationLock,
    ActivationRun,
    RunStatus,
)
from connectors.ops_store.engine import start_write_transaction
from connectors.ops_store.insert_if_absent import insert_if_absent

LOCK_TTL = timedelta(minutes=10)


def this_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _holder_is_gone(holder: str, heartbeat_at: datetime, now: datetime) -> bool:
    host, _, pid = holder.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return now - heartbeat_at > LOCK_TTL


@dataclass(frozen=True)
class LockResult:
    acquired: bool
    holder_run_id: str | None  # the run holding it (ours when acquired), or the other run
    took_over_from: str | None = None  # a dead holder's run, to resume


def acquire_activation_lock(
    session: Session, activation: str, run_id: str, now: datetime
) -> LockResult:
    """Take the activation's lock for `run_id`, or report who holds it."""
    start_write_transaction(session)
    holder = this_holder()
    insert_if_absent(
        session,
        ActivationLock,
        {
            "activation": activation,
            "run_id": run_id,
            "holder": holder,
            "acquired_at": now,
            "heartbeat_at": now,
        },
        conflict_columns=["activation"],
    )
    lock = session.execute(
        select(ActivationLock).where(ActivationLock.activation == activation).with_for_update()
    ).scalar_one()
    if lock.run_id == run_id and lock.holder == holder:
        return LockResult(True, run_id)
    if _holder_is_gone(lock.holder, lock.heartbeat_at, now):
        previous = lock.run_id
        lock.run_id, lock.holder, lock.acquired_at, lock.heartbeat_at = run_id, holder, now, now
        return LockResult(True, run_id, took_over_from=previous)
    return LockResult(False, lock.run_id)


def retarget_lock(session: Session, activation: str, run_id: str, now: datetime) -> None:
    """Point our lock at the run we actually carry on (a resumed one)."""
    session.execute(
        update(ActivationLock)
        .where(ActivationLock.activation == activation, ActivationLock.holder == this_holder())
        .values(run_id=run_id, heartbeat_at=now)
    )


def heartbeat(session: Session, activation: str, now: datetime) -> None:
    session.execute(
        update(ActivationLock)
        .where(ActivationLock.activation == activation, ActivationLock.holder == this_holder())
        .values(heartbeat_at=now)
    )


def release_activation_lock(session: Session, activation: str) -> None:
    session.execute(
        delete(ActivationLock).where(
            ActivationLock.activation == activation, ActivationLock.holder == this_holder()
        )
    )


def unfinished_run(session: Session, activation: str) -> ActivationRun | None:
    """The activation's latest run still in progress: the next trigger resumes it.

    Runs awaiting approval or deferred (waiting for their messages' send times) are not
    in progress: the former wait for a decision, the latter for the periodic pass.
    """
    return session.execute(
        select(ActivationRun)
        .where(
            ActivationRun.activation == activation,
            ActivationRun.status.in_(
                [RunStatus.PLANNING, RunStatus.ENQUEUED, RunStatus.DELIVERING]
            ),
            ActivationRun.kind == "run",
        )
        .order_by(ActivationRun.started_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def deferred_runs(session: Session, activation: str | None = None) -> list[ActivationRun]:
    """Runs whose remaining messages wait for their send time, oldest first.

    They do not block new runs of their activation; a periodic pass delivers what is due.
    """
    query = select(ActivationRun).where(ActivationRun.status == RunStatus.DEFERRED)
    if activation is not None:
        query = query.where(ActivationRun.activation == activation)
    return list(session.execute(query.order_by(ActivationRun.started_at)).scalars())


def awaiting_approval(session: Session, activation: str) -> ActivationRun | None:
    """The activation's run held for approval, if any: new triggers wait for that decision."""
    return session.execute(
        select(ActivationRun)
        .where(
            ActivationRun.activation == activation,
            ActivationRun.status == RunStatus.AWAITING_APPROVAL,
        )
        .order_by(ActivationRun.started_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def create_run(
    session: Session,
    *,
    run_id: str,
    activation: str,
    kind: str,
    requested_by: str,
    now: datetime,
    status: RunStatus = RunStatus.PLANNING,
    reason: str | None = None,
) -> ActivationRun:
    run = ActivationRun(
        run_id=run_id,
        activation=activation,
        kind=kind,
        status=status,
        status_reason=reason,
        requested_by=requested_by,
        started_at=now,
        updated_at=now,
        finished_at=now if status in FINAL_RUN_STATUSES else None,
    )
    session.add(run)
    return run


def set_run_status(
    session: Session,
    run_id: str,
    status: RunStatus,
    now: datetime,
    *,
    reason: str | None = None,
    plan: dict[str, Any] | None = None,
) -> ActivationRun:
    run = session.get(ActivationRun, run_id)
    if run is None:
        raise LookupError(f"no activation run {run_id!r}")
    if run.status in FINAL_RUN_STATUSES and run.status is not status:
        raise ValueError(f"run {run_id} is already {run.status.value}; it cannot become {status}")
    run.status = status
    run.status_reason = reason
    run.updated_at = now
    if plan is not None:
        run.plan = plan
        run.planned_at = now
    if status in FINAL_RUN_STATUSES:
        run.finished_at = now
    return run
