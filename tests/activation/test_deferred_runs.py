"""Runs deferred by quiet hours: they end `deferred`, never block a trigger, and a periodic pass
delivers what comes due — each recipient once, caps held. Time is a clock the test moves."""

from datetime import UTC, datetime, timedelta

import pytest

from connectors.ops_store import create_ops_engine, create_schema, ops_sessionmaker
from connectors.ops_store.delivery_models import OutboxMessage
from connectors.ops_store.engine import write_transaction
from connectors.ops_store.runs import acquire_activation_lock, release_activation_lock
from connectors.ops_store.suppressions import suppress_immediately
from tests.activation.audience import add_profile
from tests.activation.conftest import define, make_engine, received_by_address
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING

pytestmark = pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)

# 23:00 in UTC: quiet (21:00-08:00) for a recipient in UTC, 10:00 the next day in Sydney.
LATE_EVENING = datetime(2026, 1, 15, 23, 0, tzinfo=UTC)
UTC_MORNING = datetime(2026, 1, 16, 8, 0, tzinfo=UTC)
DAYTIME_ZONE = "Australia/Sydney"


class Clock:
    """The engine's time, moved by the test (no sleeping)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def deliver_due_runs(engine):
    """What the Dagster sensor and its job do each tick: every due deferred run, one pass."""
    return [engine.deliver_due(run.run_id) for run in engine.due()]


def message_states(warehouse):
    return {
        (r["run_id"], r["profile_id"]): (r["state"], r["error_code"])
        for r in warehouse.query_arrow(
            "select run_id, profile_id, state, error_code from tidemark.message_log"
        ).to_pylist()
    }


def run_statuses(warehouse):
    return {
        r["run_id"]: r["status"]
        for r in warehouse.query_arrow(
            "select run_id, status from tidemark.activation_runs"
        ).to_pylist()
    }


def test_a_deferred_run_waits_without_blocking_and_the_due_pass_sends_each_once(
    settings, warehouse, sessions, sink
):
    add_profile(warehouse, "day", tz=DAYTIME_ZONE)
    add_profile(warehouse, "night", tz="UTC")
    define(sessions, quiet_hours={"start": "21:00", "end": "08:00"})
    clock = Clock(LATE_EVENING)
    engine = make_engine(settings, warehouse, sessions, clock=clock)

    first = engine.run("welcome", requested_by="test")

    assert first.status == "deferred"
    assert first.counts == {"sent": 1, "planned": 1}
    assert first.next_due_at == UTC_MORNING
    assert "next is due at 2026-01-16 08:00:00 UTC" in first.reason
    assert received_by_address(sink) == {"day@example.com": 1}

    # A newcomer arrives; the next trigger plans it instead of waiting for the deferred run.
    add_profile(warehouse, "late", tz="UTC")
    clock.now = LATE_EVENING + timedelta(hours=2)
    second = engine.run("welcome", requested_by="schedule")

    assert second.run_id != first.run_id
    assert second.status == "deferred" and second.plan.planned == 1
    assert received_by_address(sink) == {"day@example.com": 1}

    # One second before the night ends nothing is due; at 08:00 both runs are.
    clock.now = UTC_MORNING - timedelta(seconds=1)
    assert engine.due() == []
    assert {r.run_id: r.next_due_at for r in engine.deferred()} == {
        first.run_id: UTC_MORNING,
        second.run_id: UTC_MORNING,
    }
    clock.now = UTC_MORNING
    passes = deliver_due_runs(engine)

    assert sorted(p.run_id for p in passes) == sorted([first.run_id, second.run_id])
    assert {p.status for p in passes} == {"completed"}
    assert all(p.next_due_at is None for p in passes)
    assert received_by_address(sink) == {
        "day@example.com": 1,
        "night@example.com": 1,
        "late@example.com": 1,
    }
    assert run_statuses(warehouse) == {first.run_id: "completed", second.run_id: "completed"}
    assert set(message_states(warehouse).values()) == {("sent", None)}

    # Nothing is due any more; passes and triggers send nothing new.
    assert deliver_due_runs(engine) == []
    third = engine.run("welcome", requested_by="schedule")
    assert third.status == "completed" and third.plan.planned == 0
    received_ids = sink.received_ids()
    assert len(received_ids) == len(set(received_ids)) == 3


def test_a_newer_message_for_the_same_profile_supersedes_the_waiting_one(
    settings, warehouse, sessions, sink
):
    add_profile(warehouse, "night", tz="UTC", first_name="Nat")
    define(sessions, mode="upsert", quiet_hours={"start": "21:00", "end": "08:00"})
    clock = Clock(LATE_EVENING)
    engine = make_engine(settings, warehouse, sessions, clock=clock)
    first = engine.run("welcome", requested_by="test")
    # Her row changes while the first message waits: the next run plans her again.
    warehouse.execute("update analytics.segment_test set first_name = 'Natalie'")
    clock.now = LATE_EVENING + timedelta(hours=1)
    second = engine.run("welcome", requested_by="test")

    clock.now = UTC_MORNING
    deliver_due_runs(engine)

    assert received_by_address(sink) == {"night@example.com": 1}
    [mail] = sink.received
    assert mail.message["Subject"] == "Welcome, Natalie"
    states = message_states(warehouse)
    assert states[(first.run_id, "night")] == ("cancelled", "superseded")
    assert states[(second.run_id, "night")] == ("sent", None)
    with sessions() as session:
        sent = session.get(OutboxMessage, mail.message["X-Tidemark-Message-Id"])
        assert sent is not None and sent.run_id == second.run_id


def test_frequency_caps_count_messages_still_waiting_in_a_deferred_run(
    settings, warehouse, sessions, sink
):
    add_profile(warehouse, "night", tz="UTC")
    quiet = {"start": "21:00", "end": "08:00"}
    cap = {"max_messages": 1, "window_hours": 24}
    define(sessions, "welcome", quiet_hours=quiet, frequency_cap=cap)
    define(sessions, "promo", quiet_hours=quiet, frequency_cap=cap)
    clock = Clock(LATE_EVENING)
    engine = make_engine(settings, warehouse, sessions, clock=clock)

    welcome = engine.run("welcome", requested_by="test")
    clock.now = LATE_EVENING + timedelta(hours=1)
    promo = engine.run("promo", requested_by="test")
    clock.now = UTC_MORNING
    deliver_due_runs(engine)

    assert welcome.status == "deferred"
    assert promo.plan.planned == 0 and promo.plan.excluded == {"frequency_cap": 1}
    assert received_by_address(sink) == {"night@example.com": 1}
    assert message_states(warehouse)[(welcome.run_id, "night")] == ("sent", None)


def test_a_due_pass_leaves_a_run_alone_while_its_activation_is_busy(
    settings, warehouse, sessions, sink
):
    add_profile(warehouse, "night", tz="UTC")
    define(sessions, quiet_hours={"start": "21:00", "end": "08:00"})
    clock = Clock(LATE_EVENING)
    engine = make_engine(settings, warehouse, sessions, clock=clock)
    deferred = engine.run("welcome", requested_by="test")
    clock.now = UTC_MORNING

    with write_transaction(sessions) as session:  # a run of the activation is in progress
        assert acquire_activation_lock(session, "welcome", "busy-run", clock.now).acquired
    busy = engine.deliver_due(deferred.run_id)
    with write_transaction(sessions) as session:
        release_activation_lock(session, "welcome")
    later = engine.deliver_due(deferred.run_id)

    assert busy.status == "deferred" and "run busy-run of welcome is in progress" in busy.reason
    assert later.status == "completed"
    assert received_by_address(sink) == {"night@example.com": 1}


def test_an_unsubscribe_while_the_message_waits_is_honoured_by_the_due_pass(
    settings, warehouse, sessions, sink
):
    add_profile(warehouse, "night", tz="UTC")
    define(sessions, quiet_hours={"start": "21:00", "end": "08:00"})
    clock = Clock(LATE_EVENING)
    engine = make_engine(settings, warehouse, sessions, clock=clock)
    deferred = engine.run("welcome", requested_by="test")
    with sessions() as session, session.begin():  # one click, in the middle of her night
        suppress_immediately(
            session, channel="email", address="night@example.com", reason="one-click"
        )

    clock.now = UTC_MORNING
    [done] = deliver_due_runs(engine)

    assert done.run_id == deferred.run_id and done.status == "completed"
    assert done.counts == {"excluded": 1}
    assert sink.received == []
    assert message_states(warehouse)[(deferred.run_id, "night")] == ("excluded", "suppressed")


@pytest.mark.postgres
def test_superseding_and_the_due_pass_hold_with_the_ops_store_on_postgresql(
    settings, warehouse, sink, postgres_url
):
    ops = create_ops_engine(postgres_url)
    create_schema(ops)
    sessions = ops_sessionmaker(ops)
    add_profile(warehouse, "night", tz="UTC", first_name="Nat")
    add_profile(warehouse, "day", tz=DAYTIME_ZONE)
    define(sessions, mode="upsert", quiet_hours={"start": "21:00", "end": "08:00"})
    clock = Clock(LATE_EVENING)
    engine = make_engine(settings, warehouse, sessions, clock=clock)
    first = engine.run("welcome", requested_by="test")
    warehouse.execute(
        "update analytics.segment_test set first_name = 'Natalie' where profile_id = 'night'"
    )
    clock.now = LATE_EVENING + timedelta(hours=1)
    second = engine.run("welcome", requested_by="test")
    clock.now = UTC_MORNING
    passes = deliver_due_runs(engine)

    assert first.status == second.status == "deferred"
    assert {p.status for p in passes} == {"completed"}
    assert received_by_address(sink) == {"day@example.com": 1, "night@example.com": 1}
    states = message_states(warehouse)
    assert states[(first.run_id, "night")] == ("cancelled", "superseded")
    assert states[(second.run_id, "night")] == ("sent", None)
