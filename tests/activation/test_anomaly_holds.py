"""A run over data that just jumped or spiked is held for approval, and approval releases it.

The flags come from the monitoring dbt models, built here over hand-made histories of the
segment's size and of deliverability (tests/dbt/monitoring.py).
"""

import pytest

from tests.activation.conftest import MEMBERS, define, make_engine, received_by_address
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING
from tests.dbt.monitoring import (
    BOUNCE_SPIKE,
    JUMP,
    STEADY_DAYS,
    STEADY_SIZES,
    build_monitoring_models,
    record_sizes,
    write_deliverability,
)

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)]


def test_a_run_over_a_segment_that_jumped_waits_for_approval_and_approve_releases_it(
    settings, audience, sessions, sink, tmp_path, monkeypatch
):
    record_sizes(audience, "test", [*STEADY_SIZES, JUMP])
    write_deliverability(audience, STEADY_DAYS)
    build_monitoring_models(settings.duckdb_file, tmp_path / "dbt", monkeypatch)
    define(sessions)
    engine = make_engine(settings, audience, sessions)

    held = engine.run("welcome", requested_by="schedule")

    assert held.status == "awaiting_approval"
    assert held.reason.startswith("anomaly: segment test jumped from 1,012 to 1,450 members")
    assert "at the build of 2026-03-11 00:00 UTC" in held.reason
    assert sink.received == []
    runs = audience.query_arrow("select status from tidemark.activation_runs").to_pylist()
    assert runs == [{"status": "awaiting_approval"}]
    # While it waits, another trigger is skipped rather than planned around it.
    assert engine.run("welcome", requested_by="schedule").status == "skipped"

    released = engine.approve(held.run_id, actor="admin@example.com")

    assert released.status == "completed"
    assert received_by_address(sink) == {f"{p}@example.com": 1 for p in MEMBERS}


def test_steady_history_does_not_hold_the_run(
    settings, audience, sessions, sink, tmp_path, monkeypatch
):
    record_sizes(audience, "test", STEADY_SIZES)
    write_deliverability(audience, STEADY_DAYS)
    build_monitoring_models(settings.duckdb_file, tmp_path / "dbt", monkeypatch)
    define(sessions)

    report = make_engine(settings, audience, sessions).run("welcome", requested_by="test")

    assert report.status == "completed" and report.reason is None
    assert len(sink.received) == len(MEMBERS)


def test_a_bounce_spike_holds_email_runs(settings, audience, sessions, sink, tmp_path, monkeypatch):
    record_sizes(audience, "test", STEADY_SIZES)
    write_deliverability(audience, [*STEADY_DAYS, BOUNCE_SPIKE])
    build_monitoring_models(settings.duckdb_file, tmp_path / "dbt", monkeypatch)
    define(sessions)

    held = make_engine(settings, audience, sessions).run("welcome", requested_by="test")

    assert held.status == "awaiting_approval"
    assert held.reason.startswith("anomaly: the bounce rate spiked to 9.00% on 2026-03-11")
    assert "complaint" not in held.reason
    assert sink.received == []
