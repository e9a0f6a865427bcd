"""`analytics.experiment_results` on ClickHouse and Snowflake equals the Python reference.

The same generated per-arm statistics as tests/dbt/test_experiment_statistics.py (DuckDB) are
written into each engine through its own warehouse client, only the statistics model is built
with `dbt build --target <engine>`, and every figure is compared with the reference to 1e-9
relative, the bound the DuckDB test holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from connectors.settings import Settings
from connectors.warehouse.factory import open_warehouse
from tests.dbt.test_experiment_statistics import close, expected_rows, write_statistics
from tests.engines.conftest import engine_settings
from tests.engines.engine_build import build_on_engine

pytestmark = pytest.mark.slow

ENGINES = [
    pytest.param("clickhouse", id="clickhouse", marks=pytest.mark.clickhouse),
    pytest.param("snowflake", id="snowflake", marks=pytest.mark.snowflake),
]


@pytest.fixture(params=ENGINES)
def results(request: pytest.FixtureRequest, tmp_path: Any) -> tuple[Any, Any, Any]:
    settings: Settings = engine_settings(request.param, request, tmp_path)
    warehouse = open_warehouse(settings)
    configs, stats_rows = write_statistics(warehouse)
    build_on_engine(
        settings,
        tmp_path,
        ["stg_tidemark__experiments", "experiment_results"],
        as_of=datetime(2026, 6, 2),
    )
    rows = warehouse.query_arrow("select * from analytics.experiment_results").to_pylist()
    return configs, stats_rows, [{k.lower(): v for k, v in row.items()} for row in rows]


def test_results_equal_the_reference(results):
    configs, stats_rows, rows = results
    expected = expected_rows(configs, stats_rows)
    actual = {(r["experiment_id"], r["variant"], r["metric"]): r for r in rows}
    assert set(actual) == set(expected)
    mismatches = [
        f"{key} {column}: sql {actual[key][column]!r} reference {value!r}"
        for key, figures in expected.items()
        for column, value in figures.items()
        if not close(actual[key][column], value)
    ]
    assert not mismatches, "\n".join(mismatches)
