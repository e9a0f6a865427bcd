"""Erasure requests: the sensor launches the warehouse part once per pending set; it runs."""

import dagster as dg

from activation.data_subjects import request_erasure
from activation.from_settings import ops_sessions
from connectors.ops_store.erasure_requests import ErasureRequest
from connectors.warehouse.duckdb import DuckDBWarehouse
from dagster_project.defs.privacy.erasures import erasure_job, erasure_requests_sensor
from dagster_project.resources import TidemarkResource
from tests.activation.audience import add_profile, create_audience_tables


def test_a_pending_erasure_is_launched_and_carried_out(settings):
    warehouse = DuckDBWarehouse(settings.duckdb_file)
    create_audience_tables(warehouse, "test")
    add_profile(warehouse, "zoe")
    add_profile(warehouse, "yan")
    sessions = ops_sessions(settings)
    outcome = request_erasure(warehouse, sessions, "zoe", actor="token:admin")
    resources = {"tidemark": TidemarkResource()}

    first = erasure_requests_sensor(dg.build_sensor_context(resources=resources))
    again = erasure_requests_sensor(dg.build_sensor_context(resources=resources))

    assert isinstance(first, dg.RunRequest) and isinstance(again, dg.RunRequest)
    assert first.run_key == again.run_key  # one launch per pending set
    assert erasure_job.execute_in_process(resources=resources).success
    remaining = warehouse.query_arrow(
        "select profile_id from analytics.profiles union all "
        "select profile_id from analytics.segment_test order by 1"
    ).column("profile_id")
    assert remaining.to_pylist() == ["yan", "yan"]
    with sessions() as session:
        request = session.get(ErasureRequest, outcome.request_id)
        assert request.status.value == "done" and request.profile_id is None
    skipped = erasure_requests_sensor(dg.build_sensor_context(resources=resources))
    assert isinstance(skipped, dg.SkipReason)
