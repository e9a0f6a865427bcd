"""Activation requests: written to the ops store, launched once by the sensor, carried out."""

import dagster as dg
import pytest

from activation.from_settings import ops_sessions
from connectors.ops_store import RequestStatus, enqueue_request, get_request
from connectors.ops_store.delivery_models import ActivationRun
from connectors.warehouse.duckdb import DuckDBWarehouse
from dagster_project.defs.activation.requests import (
    activation_request_job,
    activation_requests_sensor,
)
from dagster_project.resources import TidemarkResource
from tests.activation.audience import add_profile, create_audience_tables, daytime_zone

pytestmark = pytest.mark.xdist_group("dbt")


@pytest.fixture
def audience(settings):
    warehouse = DuckDBWarehouse(settings.duckdb_file)
    create_audience_tables(warehouse, "new_subscribers_7d")
    for name in ("ann", "bob"):
        add_profile(warehouse, name, segments=("new_subscribers_7d",), tz=daytime_zone())
    return settings


def test_a_request_is_launched_once_and_carried_out(audience, sink):
    settings = audience
    sessions = ops_sessions(settings)
    with sessions() as session, session.begin():
        enqueue_request(
            session,
            activation_name="welcome_new_subscribers",
            requested_by="marketer@example.com",
            request_id="req-1",
        )
    resources = {"tidemark": TidemarkResource()}

    first = activation_requests_sensor(dg.build_sensor_context(resources=resources))
    again = activation_requests_sensor(dg.build_sensor_context(resources=resources))

    [request] = first.run_requests
    assert request.run_key == "req-1"
    assert isinstance(again, dg.SkipReason)
    result = activation_request_job.execute_in_process(
        run_config=request.run_config, resources=resources
    )
    assert result.success
    assert sink.received == 2
    with sessions() as session:
        assert get_request(session, "req-1").status is RequestStatus.DONE
        run = session.get(ActivationRun, "req-1")
        assert run.status.value == "completed" and run.requested_by == "request:req-1"


def test_a_request_for_an_unknown_activation_fails_clearly(audience, sink):
    settings = audience
    sessions = ops_sessions(settings)
    with sessions() as session, session.begin():
        enqueue_request(
            session, activation_name="no_such_thing", requested_by="m", request_id="req-2"
        )
    resources = {"tidemark": TidemarkResource()}
    [request] = activation_requests_sensor(
        dg.build_sensor_context(resources=resources)
    ).run_requests

    result = activation_request_job.execute_in_process(
        run_config=request.run_config, resources=resources, raise_on_error=False
    )

    assert not result.success
    with sessions() as session:
        failed = get_request(session, "req-2")
        assert failed.status is RequestStatus.FAILED
        assert "no activation named 'no_such_thing'" in failed.status_reason
    assert sink.received == 0
