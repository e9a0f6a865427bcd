"""An approval of a run held for an anomaly is remembered for that activation's later runs.

The cron an hour after an approved run, before the next dbt build, sees the very same
flagged points: it must not be held again for them. A newly flagged point still holds, and
the approval covers only the activation whose run was approved. The approval lives in the
ops store, so an engine in a new process (a new store connection) honours it too.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from connectors.ops_store import create_ops_engine, list_audit, ops_sessionmaker
from connectors.ops_store.anomaly_holds import AnomalyHold
from tests.activation.audience import add_profile
from tests.activation.conftest import MEMBERS, define, make_engine, received_by_address
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING
from tests.dbt.monitoring import (
    BOUNCE_SPIKE,
    JUMP,
    START,
    STEADY_DAYS,
    STEADY_SIZES,
    build_monitoring_models,
    record_sizes,
    write_deliverability,
)

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)]


def record_next_size(warehouse, members: int, day: int) -> None:
    """One more build's size of segment `test`, `day` days after the history's start."""
    warehouse.execute(
        "insert into analytics.segment_size_history values ('test', ?, ?)",
        [START + timedelta(days=day), members],
    )


def test_after_approval_the_next_run_over_the_same_jump_is_not_held_but_a_new_jump_is(
    settings, audience, sessions, sink, tmp_path, monkeypatch
):
    record_sizes(audience, "test", [*STEADY_SIZES, JUMP])
    write_deliverability(audience, STEADY_DAYS)
    build_monitoring_models(settings.duckdb_file, tmp_path / "dbt", monkeypatch)
    define(sessions)
    engine = make_engine(settings, audience, sessions)
    held = engine.run("welcome", requested_by="schedule")
    assert held.status == "awaiting_approval"
    assert engine.approve(held.run_id, actor="admin@example.com").status == "completed"

    # An hour later, before any dbt build: the same flagged build, and one new member.
    add_profile(audience, "dan")
    fresh_process = ops_sessionmaker(create_ops_engine(settings.ops_store_dsn))
    later = make_engine(settings, audience, fresh_process).run("welcome", requested_by="cron")

    assert later.status == "completed" and later.reason is None
    assert received_by_address(sink) == {f"{p}@example.com": 1 for p in (*MEMBERS, "dan")}

    # The next build jumps again: a point nobody approved holds the run.
    record_next_size(audience, 3000, day=len(STEADY_SIZES) + 1)
    add_profile(audience, "eve")
    again = engine.run("welcome", requested_by="cron")

    assert again.status == "awaiting_approval"
    assert again.reason.startswith("anomaly: segment test jumped from 1,450 to 3,000 members")
    assert "eve@example.com" not in received_by_address(sink)


def test_the_approval_is_recorded_and_audited(
    settings, audience, sessions, sink, tmp_path, monkeypatch
):
    record_sizes(audience, "test", [*STEADY_SIZES, JUMP])
    write_deliverability(audience, [*STEADY_DAYS, BOUNCE_SPIKE])
    build_monitoring_models(settings.duckdb_file, tmp_path / "dbt", monkeypatch)
    define(sessions)
    engine = make_engine(settings, audience, sessions)
    held = engine.run("welcome", requested_by="schedule")

    engine.approve(held.run_id, actor="admin@example.com")

    expected = [
        "deliverability:bounce_rate:2026-03-11",
        "segment_size:test:2026-03-11T00:00:00.000000",
    ]
    with sessions() as session:
        holds = session.scalars(select(AnomalyHold).order_by(AnomalyHold.anomaly)).all()
        assert [(h.run_id, h.anomaly, h.approved_by) for h in holds] == [
            (held.run_id, key, "admin@example.com") for key in expected
        ]
        assert holds[1].description.startswith("segment test jumped from 1,012 to 1,450")
        (entry,) = list_audit(session, resource_id=held.run_id)
        assert entry.action == "activation_run.approve"
        assert entry.after == {"status": "enqueued", "approved_anomalies": expected}


def test_an_approval_covers_only_the_activation_whose_run_was_approved(
    settings, audience, sessions, sink, tmp_path, monkeypatch
):
    record_sizes(audience, "test", STEADY_SIZES)
    write_deliverability(audience, [*STEADY_DAYS, BOUNCE_SPIKE])
    build_monitoring_models(settings.duckdb_file, tmp_path / "dbt", monkeypatch)
    define(sessions)
    define(sessions, name="winback")
    engine = make_engine(settings, audience, sessions)
    held = engine.run("welcome", requested_by="schedule")
    engine.approve(held.run_id, actor="admin@example.com")

    other = engine.run("winback", requested_by="schedule")
    add_profile(audience, "dan")
    welcome_again = engine.run("welcome", requested_by="cron")

    assert other.status == "awaiting_approval"
    assert other.reason.startswith("anomaly: the bounce rate spiked to 9.00% on 2026-03-11")
    assert welcome_again.status == "completed"
    assert received_by_address(sink)["dan@example.com"] == 1


def test_a_run_held_only_by_its_size_limit_records_no_anomaly(
    settings, audience, sessions, sink, tmp_path, monkeypatch
):
    record_sizes(audience, "test", STEADY_SIZES)
    write_deliverability(audience, STEADY_DAYS)
    build_monitoring_models(settings.duckdb_file, tmp_path / "dbt", monkeypatch)
    define(sessions, limits={"max_change": 2})
    engine = make_engine(settings, audience, sessions)

    held = engine.run("welcome", requested_by="schedule")
    engine.approve(held.run_id, actor="admin@example.com")

    assert held.status == "awaiting_approval" and "anomaly" not in held.reason
    with sessions() as session:
        assert session.scalars(select(AnomalyHold)).all() == []
