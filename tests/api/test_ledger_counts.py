"""Runs' message counts are reused for a second, and never outlive a change of the run's row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from api.reads.ledger_counts import LedgerCounts
from connectors.ops_store.delivery_models import MessageState, OutboxMessage

PLANNED_AT = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)


def message(run_id: str, n: int, state: MessageState) -> OutboxMessage:
    return OutboxMessage(
        message_id=f"{run_id}-{n}",
        run_id=run_id,
        activation="welcome",
        profile_id=f"p{n}",
        channel="email",
        address=f"p{n}@example.com",
        variant="control",
        change="added",
        attributes="{}",
        partition=n % 4,
        state=state,
        attempts=0,
        send_after=PLANNED_AT,
        next_attempt_at=PLANNED_AT,
        planned_at=PLANNED_AT,
        updated_at=PLANNED_AT,
    )


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def send_one(ops_sessions: sessionmaker[Session], message_id: str) -> None:
    with ops_sessions.begin() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.message_id == message_id)
            .values(state=MessageState.SENT)
        )


def test_counts_are_reused_for_a_second_then_counted_again(
    ops_sessions: sessionmaker[Session],
) -> None:
    with ops_sessions.begin() as session:
        session.add_all([message("run-a", n, MessageState.PLANNED) for n in range(3)])
        session.add_all([message("run-b", n, MessageState.SENT) for n in range(2)])
    clock = Clock()
    ledger = LedgerCounts(fresh_for_s=1.0, clock=clock)
    runs = {"run-a": PLANNED_AT, "run-b": PLANNED_AT, "run-c": PLANNED_AT}

    with ops_sessions() as session:
        first = ledger.of(session, runs)
    assert first == {"run-a": {"planned": 3}, "run-b": {"sent": 2}, "run-c": {}}

    send_one(ops_sessions, "run-a-0")
    clock.now += 0.5
    with ops_sessions() as session:
        assert ledger.of(session, runs)["run-a"] == {"planned": 3}  # within the second
    clock.now += 0.5
    with ops_sessions() as session:
        assert ledger.of(session, runs)["run-a"] == {"planned": 2, "sent": 1}


def test_a_changed_run_row_is_counted_again_at_once(ops_sessions: sessionmaker[Session]) -> None:
    with ops_sessions.begin() as session:
        session.add_all([message("run-a", n, MessageState.PLANNED) for n in range(2)])
    ledger = LedgerCounts(fresh_for_s=60.0, clock=Clock())
    with ops_sessions() as session:
        assert ledger.of(session, {"run-a": PLANNED_AT}) == {"run-a": {"planned": 2}}

    send_one(ops_sessions, "run-a-1")
    later = PLANNED_AT + timedelta(seconds=1)  # the run's status changed with that send
    with ops_sessions() as session:
        assert ledger.of(session, {"run-a": later}) == {"run-a": {"planned": 1, "sent": 1}}


def test_callers_cannot_change_the_kept_counts(ops_sessions: sessionmaker[Session]) -> None:
    with ops_sessions.begin() as session:
        session.add(message("run-a", 0, MessageState.PLANNED))
    ledger = LedgerCounts(fresh_for_s=60.0, clock=Clock())
    with ops_sessions() as session:
        ledger.of(session, {"run-a": PLANNED_AT})["run-a"]["planned"] = 99
        assert ledger.of(session, {"run-a": PLANNED_AT}) == {"run-a": {"planned": 1}}
