"""The engine end to end: a real warehouse, a real ops store, a real SMTP server."""

import socket
import threading
from datetime import UTC, datetime

import pytest

from connectors.ops_store import create_ops_engine, create_schema, ops_sessionmaker
from connectors.ops_store.delivery_models import ActivationLock
from connectors.ops_store.suppressions import suppress_immediately
from tests.activation.audience import add_many, add_profile
from tests.activation.conftest import (
    define,
    make_engine,
    received_by_address,
    state_counts_for_all,
)
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING

pytestmark = pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)


def test_a_run_sends_each_planned_member_once_and_records_everything(
    settings, warehouse, sessions, sink
):
    add_profile(warehouse, "ann", first_name="Ann")
    add_profile(warehouse, "bob", first_name="Bob")
    add_profile(warehouse, "cy", consent="never_asked")
    define(sessions)
    engine = make_engine(settings, warehouse, sessions)

    report = engine.run("welcome", requested_by="test")

    assert report.status == "completed"
    assert report.counts == {"sent": 2}
    assert received_by_address(sink) == {"ann@example.com": 1, "bob@example.com": 1}
    mail = next(m.message for m in sink.received if "ann@example.com" in m.rcpt_tos)
    assert mail["Subject"] == "Welcome, Ann"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Hello Ann!" in mail.get_body(("html",)).get_content()
    log = warehouse.query_arrow(
        "select profile_id, state, provider from tidemark.message_log order by 1"
    ).to_pylist()
    assert log == [
        {"profile_id": "ann", "state": "sent", "provider": "smtp"},
        {"profile_id": "bob", "state": "sent", "provider": "smtp"},
    ]
    assert set(sink.received_ids()) == set(
        warehouse.query_arrow("select message_id from tidemark.message_log")
        .column("message_id")
        .to_pylist()
    )
    run = warehouse.query_arrow(
        "select status, planned, sent, excluded, failed, in_doubt from tidemark.activation_runs"
    ).to_pylist()
    assert run == [
        {"status": "completed", "planned": 2, "sent": 2, "excluded": 1, "failed": 0, "in_doubt": 0}
    ]
    assert warehouse.query_arrow(
        "select profile_id, reason from tidemark.exclusions"
    ).to_pylist() == [{"profile_id": "cy", "reason": "no_consent"}]


def test_running_again_without_new_members_sends_nothing(settings, warehouse, sessions, sink):
    add_profile(warehouse, "ann")
    define(sessions)
    engine = make_engine(settings, warehouse, sessions)
    engine.run("welcome", requested_by="test")
    again = engine.run("welcome", requested_by="test")
    add_profile(warehouse, "newcomer")
    third = engine.run("welcome", requested_by="test")

    assert again.status == "completed" and again.plan.planned == 0
    assert third.plan.planned == 1
    assert received_by_address(sink) == {"ann@example.com": 1, "newcomer@example.com": 1}


def test_a_large_change_waits_for_approval_and_an_unsubscribe_meanwhile_is_honoured(
    settings, warehouse, sessions, sink
):
    for name in ("ann", "bob", "cy"):
        add_profile(warehouse, name)
    define(sessions, limits={"max_change": 2})
    engine = make_engine(settings, warehouse, sessions)

    held = engine.run("welcome", requested_by="test")
    assert held.status == "awaiting_approval"
    assert "more than max_change 2" in held.reason
    assert sink.received == []
    # Another trigger (the hourly schedule, say) waits for the decision instead of re-planning.
    waiting = engine.run("welcome", requested_by="schedule")
    assert waiting.status == "skipped" and f"run {held.run_id}" in waiting.reason
    # Bob unsubscribes (one click) after the plan, before the approval releases it.
    with sessions() as session, session.begin():
        suppress_immediately(
            session, channel="email", address="BOB@example.com", reason="one-click"
        )

    released = engine.approve(held.run_id, actor="admin")

    assert released.status == "completed"
    assert received_by_address(sink) == {"ann@example.com": 1, "cy@example.com": 1}
    states = {
        r["profile_id"]: (r["state"], r["error_code"])
        for r in warehouse.query_arrow(
            "select profile_id, state, error_code from tidemark.message_log"
        ).to_pylist()
    }
    assert states["bob"] == ("excluded", "suppressed")


def test_a_concurrent_trigger_is_recorded_as_skipped(settings, warehouse, sessions, sink):
    add_profile(warehouse, "ann")
    define(sessions)
    with sessions() as session, session.begin():
        session.add(
            ActivationLock(
                activation="welcome",
                run_id="running-elsewhere",
                holder=f"{socket.gethostname()}:{__import__('os').getpid()}",
                acquired_at=datetime.now(UTC),
                heartbeat_at=datetime.now(UTC),
            )
        )
    report = make_engine(settings, warehouse, sessions).run("welcome", requested_by="test")

    assert report.status == "skipped"
    assert "running-elsewhere" in report.reason
    assert sink.received == []
    assert warehouse.scalar("select status from tidemark.activation_runs") == "skipped"


def run_two_capped_activations(settings, warehouse, sessions, audience):
    """Two activations over the same audience, at once, with a cap of one message a day."""
    add_many(warehouse, audience, segments=("test", "other"))
    cap = {"max_messages": 1, "window_hours": 24}
    define(sessions, "first", "test", frequency_cap=cap)
    define(sessions, "second", "other", frequency_cap=cap)
    reports = {}

    def run(name):
        reports[name] = make_engine(settings, warehouse, sessions).run(name, requested_by="t")

    threads = [threading.Thread(target=run, args=(n,)) for n in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return reports


def test_frequency_caps_hold_across_two_concurrent_activations(settings, warehouse, sessions, sink):
    reports = run_two_capped_activations(settings, warehouse, sessions, 300)

    per_address = received_by_address(sink)
    assert len(per_address) == 300 and set(per_address.values()) == {1}
    sent = sum(r.counts.get("sent", 0) for r in reports.values())
    capped = sum(r.counts.get("excluded", 0) for r in reports.values())
    assert (sent, capped) == (300, 300)


def test_a_dry_run_renders_samples_and_sends_nothing(settings, warehouse, sessions, sink):
    add_profile(warehouse, "ann", first_name="Ann")
    add_profile(warehouse, "bad", "nope", valid=False)
    define(sessions)

    report = make_engine(settings, warehouse, sessions).dry_run("welcome", requested_by="t")

    assert report.status == "planned"
    assert report.plan.planned == 1 and report.plan.excluded == {"invalid_address": 1}
    [sample] = report.samples
    assert sample.subject == "Welcome, Ann" and "Hello Ann!" in sample.html
    assert sink.received == []
    # A dry run leaves the snapshot alone: the real run still sees Ann as new.
    assert make_engine(settings, warehouse, sessions).run("welcome", requested_by="t").counts == {
        "sent": 1
    }


def test_a_broken_template_fails_before_anything_is_sent(settings, warehouse, sessions, sink):
    add_profile(warehouse, "ann")
    define(
        sessions,
        message={
            "subject": "Hi",
            "from_address": "shop@example.com",
            "html": "<p>{{ ''.__class__.__mro__ }}</p><a href='{{ unsubscribe_url }}'>u</a>",
        },
    )
    engine = make_engine(settings, warehouse, sessions)
    with pytest.raises(ValueError, match="templates cannot use '__mro__'"):
        engine.run("welcome", requested_by="t")
    assert sink.received == []
    with sessions() as session:
        assert state_counts_for_all(session) == 0


@pytest.mark.postgres
def test_runs_claims_and_caps_hold_with_the_ops_store_on_postgresql(
    settings, warehouse, sink, postgres_url
):
    ops = create_ops_engine(postgres_url)
    create_schema(ops)
    sessions = ops_sessionmaker(ops)

    reports = run_two_capped_activations(settings, warehouse, sessions, 200)

    per_address = received_by_address(sink)
    assert len(per_address) == 200 and set(per_address.values()) == {1}
    assert {r.status for r in reports.values()} == {"completed"}
    again = make_engine(settings, warehouse, sessions).run("first", requested_by="t")
    assert again.plan.planned == 0
