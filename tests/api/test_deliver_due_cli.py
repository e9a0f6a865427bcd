"""`tidemark activation deliver-due`: the periodic pass for installs without Dagster.

Runs are planned in this process by the engine on a clock the test sets: one activation
the night before a morning already past (its waiting message is due), one the night before
a morning still ahead (not due). The command then runs as a user runs it, in a subprocess
on the real clock, over the same home: it delivers the first, leaves the second waiting,
and says so.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest

from activation.catalog import create_activation
from activation.definition import ActivationDefinition
from activation.from_settings import engine_from_settings
from activation.segments import discover_segments
from connectors.dbt_project import load_manifest
from connectors.settings import Settings
from connectors.warehouse.duckdb import DuckDBWarehouse
from tests.activation.audience import add_profile, create_audience_tables
from tests.activation.test_deferred_runs import Clock
from tests.api.cli_runner import tidemark
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING, SmtpSink

pytestmark = pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)

SEGMENT = "new_subscribers_7d"  # a segment of the dbt project; its table is made by hand here
QUIET = {"start": "21:00", "end": "08:00"}
DAYTIME_ZONE = "Australia/Sydney"  # 23:00 UTC is 10:00 there: sent at once


@pytest.fixture
def sink():
    server = SmtpSink().start()
    yield server
    server.stop()


def late_evening(day: datetime) -> datetime:
    return day.replace(hour=23, minute=0, second=0, microsecond=0)


def define(settings, name):
    manifest = load_manifest(settings)
    engine = engine_from_settings(settings)
    definition = ActivationDefinition.model_validate(
        {
            "name": name,
            "segment": SEGMENT,
            "destination": "sink",
            "channel": "email",
            "message": {
                "subject": "Welcome, {{ first_name }}",
                "from_address": "shop@example.com",
                "html": '<p>Hello {{ first_name }}! <a href="{{ unsubscribe_url }}">Stop</a></p>',
            },
            "quiet_hours": QUIET,
        }
    )
    with engine.sessions.begin() as session:
        create_activation(
            session,
            definition,
            actor="test",
            manifest=manifest,
            segments=discover_segments(manifest),
        )


def deliver_due(home, destinations):
    """The command as cron would run it, with the destinations in the environment."""
    result = tidemark(
        home, "activation", "deliver-due", env={"TIDEMARK_DESTINATIONS": json.dumps(destinations)}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_deliver_due_sends_what_has_come_due_and_leaves_the_rest_waiting(tmp_path, sink):
    destinations = {
        "sink": {
            "kind": "smtp",
            "config": {"host": sink.host, "port": sink.port, "starttls": False},
        }
    }
    settings = Settings(
        home=tmp_path, duckdb_path=tmp_path / "warehouse.duckdb", destinations=destinations
    )
    warehouse = DuckDBWarehouse(settings.duckdb_file)
    create_audience_tables(warehouse, SEGMENT)
    add_profile(warehouse, "day", tz=DAYTIME_ZONE, segments=(SEGMENT,))
    add_profile(warehouse, "night", tz="UTC", segments=(SEGMENT,))
    define(settings, "welcome_past")
    define(settings, "welcome_ahead")
    engine = engine_from_settings(settings)
    today = datetime.now(UTC)
    engine.clock = Clock(late_evening(today - timedelta(days=3)))
    past = engine.run("welcome_past", requested_by="test")
    engine.clock = Clock(late_evening(today + timedelta(days=1)))
    ahead = engine.run("welcome_ahead", requested_by="test")
    assert past.status == ahead.status == "deferred"
    assert len(sink.received) == 2  # "day" got each activation's message at once

    output = deliver_due(tmp_path, destinations)

    assert "Deferred runs delivered" in output
    [row] = [line for line in output.splitlines() if past.run_id in line]
    cells = [cell.strip() for cell in row.split("│") if cell.strip()]
    # run, activation, status, then sent, failed, excluded, in doubt, still waiting
    assert cells == [past.run_id, "welcome_past", "completed", "1", "0", "0", "0", "0"]
    assert ahead.run_id not in output
    morning = (today + timedelta(days=2)).replace(hour=8, minute=0, second=0, microsecond=0)
    assert (
        f"Still deferred: 1 runs; the next message is due at {morning:%Y-%m-%d} 08:00:00 UTC"
        in output
    )
    night_mail = [m for m in sink.received if m.rcpt_tos == ["night@example.com"]]
    assert len(night_mail) == 1
    runs = {
        r["run_id"]: r["status"]
        for r in warehouse.query_arrow(
            "select run_id, status from tidemark.activation_runs"
        ).to_pylist()
    }
    assert runs == {past.run_id: "completed", ahead.run_id: "deferred"}

    again = deliver_due(tmp_path, destinations)

    assert "No deferred run has a message due (1 deferred runs checked)." in again
    assert len(sink.received) == 3
