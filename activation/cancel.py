"""Cancel an activation's pending work: queued requests and messages not yet handed over.

Nothing already given to a provider can be taken back, so cancelling stops what has not
started: pending requests are skipped, planned outbox rows become `cancelled` (the delivery
loop only claims planned rows, so a running delivery stops picking them up), and a run
that is not being delivered right now (held for approval, deferred, or orphaned) is marked
cancelled. A run whose delivery is in flight finishes what it claimed and then completes
with nothing left to send. One audit entry records what was stopped. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.ops_store.activation_requests import list_requests, mark_request
from connectors.ops_store.audit import record_audit
from connectors.ops_store.delivery_models import (
    FINAL_RUN_STATUSES,
    ActivationLock,
    ActivationRun,
    MessageState,
    OutboxMessage,
    RunStatus,
)
from connectors.ops_store.models import RequestStatus

MAX_PENDING_REQUESTS = 1_000


@dataclass
class Cancellation:
    """What a cancel stopped."""

    activation: str
    requests: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    messages: int = 0


def cancel_activation(session: Session, name: str, *, actor: str, now: datetime) -> Cancellation:
    """Stop the activation's queued requests and unsent messages; audit it."""
    done = Cancellation(activation=name)
    reason = f"cancelled by {actor}"
    for request in list_requests(
        session, status=RequestStatus.PENDING, activation_name=name, limit=MAX_PENDING_REQUESTS
    ):
        mark_request(session, request.request_id, RequestStatus.SKIPPED, reason=reason, now=now)
        done.requests.append(request.request_id)
    runs = session.scalars(
        select(ActivationRun).where(
            ActivationRun.activation == name, ActivationRun.status.not_in(FINAL_RUN_STATUSES)
        )
    ).all()
    delivering = session.scalar(
        select(ActivationLock.run_id).where(ActivationLock.activation == name)
    )
    for run in runs:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.run_id == run.run_id, OutboxMessage.state == MessageState.PLANNED)
            .values(state=MessageState.CANCELLED, error_message=reason, updated_at=now)
        )
        done.messages += int(result.rowcount or 0)  # type: ignore[attr-defined]
        if run.run_id != delivering:
            run.status, run.status_reason = RunStatus.CANCELLED, reason
            run.updated_at = run.finished_at = now
            done.runs.append(run.run_id)
    record_audit(
        session,
        actor=actor,
        action="activation.cancel",
        resource_type="activation",
        resource_id=name,
        before=None,
        after=asdict(done),
    )
    return done
