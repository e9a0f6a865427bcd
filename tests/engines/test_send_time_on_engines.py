"""`send_time: recommended` on DuckDB, ClickHouse and Snowflake: same hours, same send times.

The recommendations model is built with `dbt build --target <engine>` over the generated
year of opens of tests/dbt/test_send_time_recommendations.py (five zones, three with DST, a
crowd at 19:00) and must give every profile the hour that test expects. Then an activation
with `send_time: recommended` and quiet hours is planned on each engine over the hand-made
recommendations of tests/activation/test_send_time.py (across the United States' switch to
daylight saving time, into Tokyo's quiet hours, a profile the model has not seen) and must
give every recipient the same `send_after`, the UTC instant that test derives by hand.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from connectors.ops_store import create_ops_engine, create_schema, ops_sessionmaker
from connectors.settings import Settings
from connectors.warehouse.base import Warehouse
from connectors.warehouse.factory import open_warehouse
from tests.activation.audience import PROFILE_COLUMNS
from tests.activation.conftest import define, make_engine
from tests.activation.test_deferred_runs import Clock
from tests.activation.test_send_time import PLANNED_AT, POPULATION_HOUR, QUIET, RECIPIENTS
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING, SmtpSink
from tests.dbt.test_send_time_recommendations import AS_OF, CROWD_HOUR, generated_history
from tests.engines.engine_build import build_on_engine

pytestmark = pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)


def write_engagement_inputs(warehouse: Warehouse) -> dict[str, int | None]:
    """`analytics.profiles` and `analytics.message_events` holding the generated history (the
    columns the recommendations read); the expected hour per profile, None for the crowd's."""
    profiles, events, expected = generated_history()
    warehouse.execute("create schema if not exists analytics")
    warehouse.execute("create table analytics.profiles (profile_id varchar, time_zone varchar)")
    warehouse.execute(
        "create table analytics.message_events (message_event_id varchar, message_id varchar, "
        "profile_id varchar, channel varchar, event_type varchar, occurred_at timestamp)"
    )
    for p in profiles:
        warehouse.execute(
            "insert into analytics.profiles values (?, ?)", [p["profile_id"], p["time_zone"]]
        )
    rows = ", ".join(
        f"('{e['message_event_id']}', '{e['message_id']}', '{e['profile_id']}', "
        f"'{e['channel']}', '{e['event_type']}', timestamp '{e['occurred_at']:%Y-%m-%d %H:%M:%S}')"
        for e in events
    )
    warehouse.execute(f"insert into analytics.message_events values {rows}")
    return expected


@pytest.mark.slow
def test_the_recommendations_model_gives_every_profile_the_same_hour(any_settings, tmp_path):
    warehouse = open_warehouse(any_settings)
    expected = write_engagement_inputs(warehouse)

    build_on_engine(
        any_settings,
        tmp_path,
        ["int_profile_engagement_hours_counted", "send_time_recommendations"],
        as_of=AS_OF,
    )

    rows = [
        {k.lower(): v for k, v in row.items()}
        for row in warehouse.query_arrow(
            "select profile_id, recommended_hour, population_hour, events_used, has_history, "
            "confidence from analytics.send_time_recommendations"
        ).to_pylist()
    ]
    found = {r["profile_id"]: r for r in rows}
    assert set(found) == set(expected)
    assert {r["population_hour"] for r in rows} == {CROWD_HOUR}
    hours = {p: r["recommended_hour"] for p, r in found.items()}
    assert hours == {p: CROWD_HOUR if h is None else h for p, h in expected.items()}
    for profile_id, row in found.items():
        assert 0 < row["confidence"] <= 1 and math.isfinite(row["confidence"])
        if profile_id.startswith("none"):
            assert (row["events_used"], row["has_history"]) == (0, False)
        if profile_id.startswith("stray"):
            assert (row["events_used"], row["has_history"]) == (1, True)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture
def settings(any_settings: Settings, sink: SmtpSink) -> Settings:
    smtp = {"kind": "smtp", "config": {"host": sink.host, "port": sink.port, "starttls": False}}
    return Settings(**{**any_settings.model_dump(), "destinations": {"sink": smtp}})


@pytest.fixture
def sessions(settings: Settings) -> sessionmaker[Session]:
    engine = create_ops_engine(settings.ops_store_dsn)
    create_schema(engine)
    return ops_sessionmaker(engine)


def load_recipients(warehouse: Warehouse) -> None:
    """Profiles, segment and recommendations of tests/activation/test_send_time.py."""
    warehouse.execute("create schema if not exists analytics")
    warehouse.execute(f"create table analytics.profiles ({PROFILE_COLUMNS})")
    warehouse.execute(
        "create table analytics.segment_test (profile_id varchar, email varchar, "
        "first_name varchar)"
    )
    warehouse.execute(
        "create table analytics.send_time_recommendations (profile_id varchar, "
        "time_zone varchar, recommended_hour integer, events_used integer, "
        "events_at_recommended_hour integer, confidence double, population_hour integer, "
        "has_history boolean)"
    )
    for profile_id, (zone, hour, _due) in RECIPIENTS.items():
        email = f"{profile_id}@example.com"
        warehouse.execute(
            "insert into analytics.profiles values (?, ?, null, 'Ann', ?, true, 'granted', "
            "'never_asked', false, false)",
            [profile_id, email, zone],
        )
        warehouse.execute(
            "insert into analytics.segment_test values (?, ?, 'Ann')", [profile_id, email]
        )
        if hour is not None:
            warehouse.execute(
                "insert into analytics.send_time_recommendations values "
                "(?, ?, ?, 5, 4, 0.6, ?, true)",
                [profile_id, zone, hour, POPULATION_HOUR],
            )


def test_recommended_send_times_are_the_same_instants_on_every_engine(
    settings: Settings, sessions: sessionmaker[Session], sink: SmtpSink
) -> None:
    warehouse = open_warehouse(settings)
    load_recipients(warehouse)
    define(sessions, quiet_hours=QUIET, send_time="recommended")
    engine = make_engine(settings, warehouse, sessions, clock=Clock(PLANNED_AT))

    run = engine.run("welcome", requested_by="test")

    assert run.status == "deferred"
    planned: dict[str, Any] = {
        r["profile_id"]: r["send_after"].replace(tzinfo=UTC)
        for r in (
            {k.lower(): v for k, v in row.items()}
            for row in warehouse.query_arrow(
                "select profile_id, send_after from tidemark.planned_messages"
            ).to_pylist()
        )
    }
    assert planned == {p: due for p, (_zone, _hour, due) in RECIPIENTS.items()}
    assert [m.rcpt_tos for m in sink.received] == [["inhour@example.com"]]
