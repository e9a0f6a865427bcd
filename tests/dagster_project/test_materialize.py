"""The whole asset graph, materialized in process: landing files → raw → every dbt model."""

from datetime import UTC, datetime

import dagster as dg
import pytest

from connectors.landing import open_landing_zone
from connectors.sources.demo_data import write_demo_data
from connectors.warehouse.factory import open_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt")]


def test_definitions_load_with_every_model_and_the_raw_assets(settings):
    from dagster_project.definitions import defs

    definitions = defs()
    keys = {key.to_user_string() for key in definitions.resolve_all_asset_keys()}
    assert {"raw/profiles", "raw/events", "raw/consent_events", "raw/message_events"} <= keys
    assert {"analytics/profiles", "analytics/suppressions", "analytics/events"} <= keys
    assert {
        "analytics/segment_new_subscribers_7d",
        "analytics/segment_cart_abandoners_24h",
        "analytics/segment_lapsed_customers_90d",
        "analytics/segment_high_value",
    } <= keys
    graph = definitions.resolve_asset_graph()
    segment = graph.get(dg.AssetKey(["analytics", "segment_high_value"]))
    assert segment.group_name == "segments"
    # Lineage reaches back to the loader's raw assets.
    upstream = graph.get(dg.AssetKey(["staging", "stg_raw__events"])).parent_keys
    assert dg.AssetKey(["raw", "events"]) in upstream
    activation = graph.get(dg.AssetKey(["activations", "welcome_new_subscribers"]))
    assert activation.group_name == "activations"
    assert dg.AssetKey(["analytics", "segment_new_subscribers_7d"]) in activation.parent_keys
    checks = {f"{k.asset_key.to_user_string()}/{k.name}" for k in graph.asset_check_keys}
    assert {
        "analytics/segment_high_value/size_has_no_jump",
        "analytics/deliverability_anomalies/no_bounce_or_complaint_spike",
    } <= checks
    assert {s.name for s in definitions.sensors} == {
        "landing_files_sensor",
        "activation_requests_sensor",
        "deferred_deliveries_sensor",
        "erasure_requests_sensor",
    }
    assert {s.name for s in definitions.schedules} == {
        "hourly_build",
        "welcome_new_subscribers_schedule",
        "shopify_sync_schedule",
    }


def test_whole_graph_materializes_in_process(settings, sink):
    from dagster_project.definitions import defs

    write_demo_data(
        open_landing_zone(settings),
        2_000,
        seed=11,
        now=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
    )
    # Everything but the Shopify sync, which needs a shop (tests/connectors/sources/shopify
    # runs it against a local Shopify).
    job = dg.define_asset_job(
        "everything_but_shopify",
        selection=dg.AssetSelection.all() - dg.AssetSelection.groups("shopify"),
    )
    definitions = dg.Definitions.merge(defs(), dg.Definitions(jobs=[job]))

    result = definitions.resolve_job_def("everything_but_shopify").execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )

    assert result.success
    materialized = {
        event.asset_key.to_user_string() for event in result.get_asset_materialization_events()
    }
    assert "raw/events" in materialized and "analytics/profiles" in materialized
    checks = result.get_asset_check_evaluations()
    landing_checks = [c for c in checks if c.check_name == "landing_batches_valid"]
    assert all(c.passed for c in landing_checks)
    checked = {c.asset_key.to_user_string() for c in landing_checks}
    assert {"raw/profiles", "raw/events", "raw/consent_events", "raw/message_events"} <= checked
    dbt_checks = [c for c in checks if c.check_name != "landing_batches_valid"]
    assert dbt_checks and all(c.passed for c in dbt_checks)

    warehouse = open_warehouse(settings)
    assert warehouse.scalar("select count(*) from analytics.profiles") == 2_000
    assert warehouse.scalar("select count(*) from analytics.segment_high_value") > 0
    [activation] = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["activations", "welcome_new_subscribers"])
    ]
    metadata = activation.materialization.metadata
    assert metadata["sent"].value == sink.received
    assert metadata["planned"].value == metadata["sent"].value + metadata["waiting"].value
    assert warehouse.scalar("select sum(sent) from tidemark.activation_runs") == sink.received
