"""Settle in-doubt messages: from provider feedback, or by an operator's explicit decision.

A message is in doubt when it may have reached the provider but its outcome was never
recorded. It is never re-sent automatically. Provider feedback that carries our message id
settles it (any acceptance event — sent, delivered, deferred, open, click, bounce, complaint —
proves the provider took it; `dropped` or `failed` proves it did not). Otherwise an operator
decides: `sent` (leave it), `failed` (give up), or `resend` (send again, accepting the risk
of a duplicate), and the decision is audited.

Resent messages go back to `planned`, due at once. A run that had finished is reopened as
`deferred` — waiting for the next delivery pass (Dagster's deferred-deliveries sensor, or
`tidemark activation deliver-due`), which sends them and gives the run its final status and
counts again; a run still in progress (or interrupted, to be resumed) sends them itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.ops_store.audit import record_audit
from connectors.ops_store.delivery_models import (
    ActivationRun,
    MessageState,
    OutboxMessage,
    RunStatus,
)
from connectors.ops_store.engine import write_transaction
from connectors.warehouse.base import Warehouse

ACCEPTED = ("sent", "delivered", "deferred", "open", "click", "bounce", "complaint", "unsubscribe")
REFUSED = ("dropped", "failed")
FEEDBACK_TABLE = "analytics.message_events"
IN_PROGRESS = frozenset(
    {RunStatus.PLANNING, RunStatus.AWAITING_APPROVAL, RunStatus.ENQUEUED, RunStatus.DELIVERING}
)
LOOKUP_BATCH = 5_000


class Decision(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    RESEND = "resend"


def _in_doubt_ids(sessions: sessionmaker[Session]) -> Iterator[list[str]]:
    with sessions() as session:
        ids = list(
            session.scalars(
                select(OutboxMessage.message_id).where(OutboxMessage.state == MessageState.IN_DOUBT)
            )
        )
    for start in range(0, len(ids), LOOKUP_BATCH):
        yield ids[start : start + LOOKUP_BATCH]


def reconcile_from_feedback(
    sessions: sessionmaker[Session], warehouse: Warehouse
) -> dict[str, int]:
    """Settle every in-doubt message the providers' feedback speaks about."""
    settled = {"sent": 0, "failed": 0}
    schema, table = FEEDBACK_TABLE.split(".")
    if not warehouse.table_exists(schema, table):
        return settled
    now = datetime.now(UTC)
    for ids in _in_doubt_ids(sessions):
        verdicts = warehouse.query_arrow(
            f"select message_id, bool_or(event_type in {ACCEPTED}) as accepted "
            f"from {FEEDBACK_TABLE} where message_id in (select unnest(?::varchar[])) "
            f"and event_type in {ACCEPTED + REFUSED} group by message_id",
            [ids],
        ).to_pylist()
        if not verdicts:
            continue
        with write_transaction(sessions) as session:
            for verdict in verdicts:
                state = MessageState.SENT if verdict["accepted"] else MessageState.FAILED
                session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.message_id == verdict["message_id"],
                        OutboxMessage.state == MessageState.IN_DOUBT,
                    )
                    .values(
                        state=state,
                        error_message="settled by provider feedback",
                        updated_at=now,
                    )
                )
                settled[state.value] += 1
    return settled


def resolve_in_doubt(
    sessions: sessionmaker[Session], run_id: str, decision: Decision, *, actor: str
) -> int:
    """Apply an operator's decision to every in-doubt message of a run; returns how many."""
    new_state = {
        Decision.SENT: MessageState.SENT,
        Decision.FAILED: MessageState.FAILED,
        Decision.RESEND: MessageState.PLANNED,
    }[decision]
    now = datetime.now(UTC)
    with write_transaction(sessions) as session:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.run_id == run_id, OutboxMessage.state == MessageState.IN_DOUBT)
            .values(
                state=new_state,
                next_attempt_at=now,
                error_message=f"in doubt; {actor} decided: {decision.value}",
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        count = int(getattr(result, "rowcount", 0) or 0)
        run = session.get(ActivationRun, run_id)
        status_before = run.status.value if run is not None else None
        if run is not None and decision is Decision.RESEND and count:
            _reopen_for_resend(run, count, actor, now)
        record_audit(
            session,
            actor=actor,
            action=f"activation_run.resolve_in_doubt.{decision.value}",
            resource_type="activation_run",
            resource_id=run_id,
            before={"in_doubt": count, "run_status": status_before},
            after={
                "state": new_state.value,
                "messages": count,
                "run_status": run.status.value if run is not None else None,
            },
        )
    return count


def _reopen_for_resend(run: ActivationRun, count: int, actor: str, now: datetime) -> None:
    """Leave a finished run `deferred`, so the next delivery pass sends what is resent.

    A run in progress, or interrupted and resumed by its activation's next trigger, carries
    on delivering its planned messages, the resent ones with them: its status stays.
    """
    if run.status in IN_PROGRESS:
        return
    run.status = RunStatus.DEFERRED
    run.finished_at = None
    run.status_reason = (
        f"{count} in-doubt messages to resend ({actor}); the next delivery pass sends them"
    )
    run.updated_at = now
