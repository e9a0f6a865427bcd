"""The same dbt project on DuckDB, ClickHouse and Snowflake gives the same segments.

Demo data is landed once, loaded by our loader into each engine, and the segments with
everything upstream of them (staging, intermediate, marts, their data and unit tests) are
built with `dbt build --target <engine>` through `run_dbt`, as `tidemark build` runs it
(`engine_build.build_on_engine`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest

from connectors.landing import LocalLandingZone
from connectors.loader import load_landing_files
from connectors.settings import REPO_ROOT, Settings
from connectors.sources.demo_data import write_demo_data
from connectors.warehouse.factory import open_warehouse
from tests.engines.conftest import snowflake_settings
from tests.engines.engine_build import build_on_engine

pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 27, 12, 0)
SEGMENTS = sorted(p.stem for p in (REPO_ROOT / "dbt/models/segments").glob("segment_*.sql"))
SELECT = "+path:models/segments"
"""The segments and everything upstream of them."""

Memberships = dict[str, list[str]]


@pytest.fixture(scope="module")
def landings(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalLandingZone, ...]:
    """Two deliveries of demo data; the second revises profiles and repeats event ids."""
    zones = []
    for seed in (11, 12):
        zone = LocalLandingZone(tmp_path_factory.mktemp(f"landing-{seed}"))
        write_demo_data(zone, 200, seed=seed, now=NOW)
        zones.append(zone)
    return tuple(zones)


def build_segments(
    settings: Settings,
    rounds: Sequence[Sequence[LocalLandingZone]],
    run_dir: Path,
) -> Memberships:
    """Per round, load the landing zones and build; then read who is in each segment.

    A second round makes the incremental marts (`events`, `message_events`) run their
    incremental strategy on the engine rather than only create their tables.
    """
    warehouse = open_warehouse(settings)
    for zones in rounds:
        for zone in zones:
            loaded = load_landing_files(zone, warehouse, now=NOW)
            assert not loaded.with_status("quarantined")
        build_on_engine(settings, run_dir, [SELECT], NOW)
    return {
        segment: sorted(
            warehouse.query_arrow(f"select profile_id from analytics.{segment}")
            .column("profile_id")
            .to_pylist()
        )
        for segment in SEGMENTS
    }


@pytest.fixture(scope="module")
def duckdb_memberships(
    landings: tuple[LocalLandingZone, ...], tmp_path_factory: pytest.TempPathFactory
) -> Memberships:
    """The reference: DuckDB, everything loaded first, one full build."""
    home = tmp_path_factory.mktemp("duckdb")
    return build_segments(Settings(home=home, warehouse="duckdb"), [landings], home)


def test_duckdb_segments_are_not_trivially_empty(duckdb_memberships):
    # The comparison below means something only if the demo data fills the segments.
    assert SEGMENTS
    assert sum(1 for members in duckdb_memberships.values() if members) >= 3


@pytest.mark.clickhouse
def test_clickhouse_full_then_incremental_build_gives_duckdbs_segments(
    landings, tmp_path, duckdb_memberships
):
    settings = Settings(home=tmp_path, warehouse="clickhouse")
    memberships = build_segments(settings, [[landing] for landing in landings], tmp_path)

    assert memberships == duckdb_memberships


@pytest.mark.snowflake
def test_snowflake_full_build_gives_duckdbs_segments(
    landings, tmp_path, duckdb_memberships, fakesnow_server, snowflake_database
):
    settings = snowflake_settings(tmp_path, fakesnow_server, snowflake_database)
    # fakesnow cannot describe the temporary tables unit tests and an incremental run's schema
    # check need (engine_build.py), so Snowflake gets one full build of everything at once.
    memberships = build_segments(settings, [landings], tmp_path)

    assert memberships == duckdb_memberships
