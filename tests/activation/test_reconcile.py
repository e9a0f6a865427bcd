"""In-doubt messages: settled by provider feedback, or resent only on an operator's decision."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from activation.mirror import mirror_run
from activation.reconcile import Decision, reconcile_from_feedback, resolve_in_doubt
from connectors.ops_store import list_audit
from connectors.ops_store.delivery_models import (
    ActivationRun,
    MessageState,
    OutboxMessage,
    RunStatus,
)
from tests.activation.audience import add_profile
from tests.activation.conftest import define, make_engine, received_by_address
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING

pytestmark = pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)


def send_then_lose_the_outcomes(settings, warehouse, sessions, names):
    """A completed run whose messages we then mark in doubt, as a crash would leave them."""
    for name in names:
        add_profile(warehouse, name)
    define(sessions)
    report = make_engine(settings, warehouse, sessions).run("welcome", requested_by="t")
    with sessions() as session, session.begin():
        session.execute(update(OutboxMessage).values(state=MessageState.IN_DOUBT))
    return report.run_id


def states(sessions):
    with sessions() as session:
        rows = session.execute(select(OutboxMessage.profile_id, OutboxMessage.state)).all()
    return {profile: str(state) for profile, state in rows}


def ids_by_profile(sessions):
    with sessions() as session:
        rows = session.execute(select(OutboxMessage.profile_id, OutboxMessage.message_id)).all()
    return dict(rows)


def test_provider_feedback_settles_in_doubt_messages(settings, warehouse, sessions, sink):
    send_then_lose_the_outcomes(settings, warehouse, sessions, ["ann", "bob", "cy"])
    ids = ids_by_profile(sessions)
    warehouse.execute(
        "create table analytics.message_events (message_id varchar, event_type varchar)"
    )
    warehouse.execute(
        "insert into analytics.message_events values (?, 'delivered'), (?, 'dropped')",
        [ids["ann"], ids["bob"]],
    )

    settled = reconcile_from_feedback(sessions, warehouse)

    assert settled == {"sent": 1, "failed": 1}
    assert states(sessions) == {"ann": "sent", "bob": "failed", "cy": "in_doubt"}


def test_only_an_operator_resends_and_the_decision_is_audited(settings, warehouse, sessions, sink):
    run_id = send_then_lose_the_outcomes(settings, warehouse, sessions, ["ann"])
    engine = make_engine(settings, warehouse, sessions)
    engine.run("welcome", requested_by="t")
    assert received_by_address(sink) == {"ann@example.com": 1}, "in doubt is never re-sent"

    assert resolve_in_doubt(sessions, run_id, Decision.RESEND, actor="ops@example.com") == 1
    [resent] = [engine.deliver_due(run.run_id) for run in engine.due()]

    assert resent.run_id == run_id and resent.status == "completed"
    assert received_by_address(sink) == {"ann@example.com": 2}
    with sessions() as session:
        [entry] = list_audit(session, resource_id=run_id)
    assert entry.actor == "ops@example.com"
    assert entry.action == "activation_run.resolve_in_doubt.resend"
    assert entry.before == {"in_doubt": 1, "run_status": "completed"}
    assert entry.after == {"state": "planned", "messages": 1, "run_status": "deferred"}
    assert datetime.now(UTC) >= entry.at


def mirrored_run(warehouse, run_id):
    [row] = warehouse.query_arrow(
        "select status, sent, in_doubt, pending, finished_at from tidemark.activation_runs "
        "where run_id = ?",
        [run_id],
    ).to_pylist()
    return row


def test_a_resent_run_waits_as_deferred_and_is_completed_again_once_the_pass_sends(
    settings, warehouse, sessions, sink
):
    run_id = send_then_lose_the_outcomes(settings, warehouse, sessions, ["ann", "bob", "cy"])
    engine = make_engine(settings, warehouse, sessions)
    mirror_run(sessions, warehouse, run_id)
    assert mirrored_run(warehouse, run_id)["in_doubt"] == 3

    resolve_in_doubt(sessions, run_id, Decision.RESEND, actor="ops@example.com")

    with sessions() as session:
        run = session.get(ActivationRun, run_id)
        assert run.status is RunStatus.DEFERRED and run.finished_at is None
        assert run.status_reason == (
            "3 in-doubt messages to resend (ops@example.com); the next delivery pass sends them"
        )
    assert [run.run_id for run in engine.due()] == [run_id]

    done = engine.deliver_due(run_id)

    assert done.status == "completed" and done.counts == {"sent": 3}
    assert engine.deferred() == []
    row = mirrored_run(warehouse, run_id)
    assert (row["status"], row["sent"], row["in_doubt"], row["pending"]) == ("completed", 3, 0, 0)
    assert row["finished_at"] is not None
