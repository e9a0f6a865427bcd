"""The landing sensor: one run per new set of files, nothing launched twice, late files noticed."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from connectors.landing import LocalLandingZone, new_batch_key
from connectors.loader import load_landing_files
from connectors.settings import Settings
from connectors.warehouse.factory import open_warehouse
from dagster_project.defs.ingest.sensors import LandingCursor, landing_files_sensor
from dagster_project.resources import TidemarkResource
from tests.connectors.loader.test_loader import NOW, events_table


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("TIDEMARK_HOME", str(tmp_path))
    return tmp_path


def evaluate(home, cursor=None):
    context = dg.build_sensor_context(
        cursor=cursor, resources={"tidemark": TidemarkResource(home=str(home))}
    )
    return landing_files_sensor(context), context


def put(landing, at):
    return landing.put(new_batch_key("events", now=at), b"batch")


def test_skips_with_a_reason_when_nothing_arrived(home):
    result, _ = evaluate(home)
    assert not result.run_requests
    assert "no new files" in result.skip_reason.skip_message


def test_new_files_launch_one_run_with_their_keys(home):
    landing = LocalLandingZone(home / "landing")
    now = datetime.now(UTC)
    files = [put(landing, now), put(landing, now + timedelta(seconds=1))]

    result, _ = evaluate(home)

    [request] = result.run_requests
    keys = request.run_config["ops"]["raw_landing_tables"]["config"]["keys"]
    assert keys == [f.key for f in files]
    # Two ticks evaluated on the same cursor ask for the same run: Dagster launches it once.
    twin, _ = evaluate(home)
    assert twin.run_requests[0].run_key == request.run_key
    # After the cursor moves on, the same files are not launched again.
    after, _ = evaluate(home, cursor=result.cursor)
    assert not after.run_requests and after.skip_reason is not None


def test_a_late_file_within_the_lookback_is_still_launched(home):
    landing = LocalLandingZone(home / "landing")
    now = datetime.now(UTC)
    put(landing, now)
    first, _ = evaluate(home)
    # A writer that started earlier finishes its rename only now: its name sorts before the mark.
    late = put(landing, now - timedelta(seconds=30))

    second, _ = evaluate(home, cursor=first.cursor)

    [request] = second.run_requests
    assert request.run_config["ops"]["raw_landing_tables"]["config"]["keys"] == [late.key]


def test_cursor_forgets_keys_older_than_the_lookback():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    old = new_batch_key("events", now=now - timedelta(hours=2))
    new = new_batch_key("events", now=now)
    from connectors.landing import LandingFile

    cursor = LandingCursor().advance([LandingFile(old, 1)]).advance([LandingFile(new, 1)])
    assert cursor.recent == [new]
    assert cursor.high_water == new.rsplit("/", 1)[-1]


def test_files_the_manifest_already_has_are_passed_over_not_launched(home):
    landing = LocalLandingZone(home / "landing")
    loaded = landing.write_table("events", events_table(0, 5))
    load_landing_files(landing, open_warehouse(Settings(home=home)), now=NOW)
    arrived = landing.write_table("events", events_table(100, 5))

    result, _ = evaluate(home)

    [request] = result.run_requests
    assert request.run_config["ops"]["raw_landing_tables"]["config"]["keys"] == [arrived.key]
    cursor = LandingCursor.parse(result.cursor)
    assert loaded.key in cursor.recent and arrived.key in cursor.recent


def test_a_tick_where_everything_is_loaded_launches_nothing(home):
    landing = LocalLandingZone(home / "landing")
    landing.write_table("events", events_table(0, 5))
    load_landing_files(landing, open_warehouse(Settings(home=home)), now=NOW)

    result, _ = evaluate(home)

    assert not result.run_requests
    assert "all launched or loaded" in result.skip_reason.skip_message
