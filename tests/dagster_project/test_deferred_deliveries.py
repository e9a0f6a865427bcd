"""Deferred runs: the sensor launches a pass once a message is due, and the pass delivers it."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from activation.from_settings import engine_from_settings
from connectors.warehouse.duckdb import DuckDBWarehouse
from dagster_project.defs.activation.deferred import deferred_deliveries_sensor, deliver_due_job
from dagster_project.resources import TidemarkResource
from tests.activation.audience import add_profile, create_audience_tables

pytestmark = pytest.mark.xdist_group("dbt")


def test_a_deferred_run_is_delivered_by_the_sensor_once_its_night_is_over(settings, sink):
    warehouse = DuckDBWarehouse(settings.duckdb_file)
    create_audience_tables(warehouse, "new_subscribers_7d")
    add_profile(warehouse, "night", segments=("new_subscribers_7d",), tz="UTC")
    # The run happened at 23:00 UTC two days ago: her message waited for 08:00 the next day.
    evening = (datetime.now(UTC) - timedelta(days=2)).replace(
        hour=23, minute=0, second=0, microsecond=0
    )
    engine = engine_from_settings(settings)
    engine.clock = lambda: evening
    deferred = engine.run("welcome_new_subscribers", requested_by="test")
    assert deferred.status == "deferred" and sink.received == 0
    instance = dg.DagsterInstance.ephemeral()
    resources = {"tidemark": TidemarkResource()}

    tick = deferred_deliveries_sensor(
        dg.build_sensor_context(resources=resources, instance=instance)
    )
    [request] = tick.run_requests
    result = deliver_due_job.execute_in_process(
        run_config=request.run_config, resources=resources, instance=instance, tags=request.tags
    )
    after = deferred_deliveries_sensor(
        dg.build_sensor_context(resources=resources, instance=instance)
    )

    assert request.tags["tidemark/deferred-run"] == deferred.run_id
    assert result.success
    assert sink.received == 1
    assert isinstance(after, dg.SkipReason)
    assert "no deferred activation runs" in str(after.skip_message)
    status = warehouse.query_arrow(
        "select status, sent from tidemark.activation_runs where run_id = ?", [deferred.run_id]
    ).to_pylist()
    assert status == [{"status": "completed", "sent": 1}]


def test_the_sensor_says_when_the_next_deferred_message_is_due(settings, sink):
    warehouse = DuckDBWarehouse(settings.duckdb_file)
    create_audience_tables(warehouse, "new_subscribers_7d")
    add_profile(warehouse, "night", segments=("new_subscribers_7d",), tz="UTC")
    evening = (datetime.now(UTC) + timedelta(days=1)).replace(
        hour=23, minute=0, second=0, microsecond=0
    )
    engine = engine_from_settings(settings)
    engine.clock = lambda: evening
    engine.run("welcome_new_subscribers", requested_by="test")
    morning = evening + timedelta(hours=9)

    tick = deferred_deliveries_sensor(
        dg.build_sensor_context(
            resources={"tidemark": TidemarkResource()}, instance=dg.DagsterInstance.ephemeral()
        )
    )

    assert isinstance(tick, dg.SkipReason)
    assert f"next message is due at {morning:%Y-%m-%d %H:%M} UTC" in str(tick.skip_message)
    assert sink.received == 0
