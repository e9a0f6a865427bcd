"""The anomaly asset checks fail on a generated jump or spike and pass on normal history.

They run as Dagster runs them: materialized from a job over the check definitions the code
location loads, against a warehouse whose monitoring models dbt built over hand-made history.
"""

import dagster as dg
import pytest

from activation.segments import Segment
from connectors.warehouse.duckdb import DuckDBWarehouse
from dagster_project.defs.monitoring.checks import (
    DELIVERABILITY_CHECK,
    SEGMENT_CHECK,
    monitoring_checks,
)
from dagster_project.resources import TidemarkResource
from tests.dbt.monitoring import (
    BOUNCE_SPIKE,
    JUMP,
    STEADY_DAYS,
    STEADY_SIZES,
    build_monitoring_models,
    record_sizes,
    write_deliverability,
)

pytestmark = pytest.mark.slow

SEGMENTS = [
    Segment(
        name=name,
        model=f"segment_{name}",
        relation=f"analytics.segment_{name}",
        label=name,
        description="",
        owner=None,
        channels=("email",),
        columns=("profile_id",),
    )
    for name in ("steady", "jumpy")
]


def check_results(settings) -> dict[str, dg.AssetCheckEvaluation]:
    """Run every anomaly check once, as a Dagster job would; results by asset/check."""
    checks = monitoring_checks(SEGMENTS)
    job = dg.define_asset_job("anomaly_checks", selection=dg.AssetSelection.all_asset_checks())
    definitions = dg.Definitions(
        asset_checks=checks,
        jobs=[job],
        resources={"tidemark": TidemarkResource(home=str(settings.home))},
    )
    job_def = definitions.resolve_job_def("anomaly_checks")
    result = job_def.execute_in_process(raise_on_error=False)
    return {
        f"{e.asset_key.to_user_string()}/{e.check_name}": e
        for e in result.get_asset_check_evaluations()
    }


def test_checks_fail_on_a_jump_and_a_bounce_spike_and_pass_on_normal_history(
    settings, tmp_path, monkeypatch
):
    warehouse = DuckDBWarehouse(settings.duckdb_file)
    record_sizes(warehouse, "steady", [*STEADY_SIZES, STEADY_SIZES[-1] + 2])
    record_sizes(warehouse, "jumpy", [*STEADY_SIZES, JUMP])
    write_deliverability(warehouse, [*STEADY_DAYS, BOUNCE_SPIKE])
    build_monitoring_models(settings.duckdb_file, tmp_path / "dbt", monkeypatch)

    results = check_results(settings)

    assert results[f"analytics/segment_steady/{SEGMENT_CHECK}"].passed
    jumpy = results[f"analytics/segment_jumpy/{SEGMENT_CHECK}"]
    assert not jumpy.passed
    assert jumpy.description.startswith("segment jumpy jumped from 1,012 to 1,450 members")
    spike = results[f"analytics/deliverability_anomalies/{DELIVERABILITY_CHECK}"]
    assert not spike.passed and "bounce rate spiked to 9.00%" in spike.description


def test_checks_pass_on_normal_history(settings, tmp_path, monkeypatch):
    warehouse = DuckDBWarehouse(settings.duckdb_file)
    for segment in SEGMENTS:
        record_sizes(warehouse, segment.name, STEADY_SIZES)
    write_deliverability(warehouse, STEADY_DAYS)
    build_monitoring_models(settings.duckdb_file, tmp_path / "dbt", monkeypatch)

    results = check_results(settings)

    assert len(results) == 3 and all(r.passed for r in results.values())
