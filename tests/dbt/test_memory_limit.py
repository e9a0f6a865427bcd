"""TIDEMARK_DUCKDB_MEMORY_LIMIT caps DuckDB for dbt builds and for our own connections alike.

dbt-duckdb SETs `settings:` from `dbt/profiles.yml` on each cursor, and after an in-process
build it may keep the warehouse open with the default connect config; our own connections
(the CLI's summary right after `dbt build`) must open the file alongside it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dbt.artifacts.schemas.run import RunExecutionResult
from dbt.cli.main import dbtRunner

from connectors.dbt_project import base_args, dbt_env
from connectors.settings import Settings
from connectors.warehouse.duckdb import DuckDBWarehouse

pytestmark = pytest.mark.xdist_group("dbt")

SHOW_LIMIT = "select current_setting('memory_limit') as memory_limit"


def _memory_limit_seen_by_dbt(
    settings: Settings, work: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    for name, value in dbt_env(settings).items():
        monkeypatch.setenv(name, value)
    result = dbtRunner().invoke(
        [
            "show",
            "--inline",
            SHOW_LIMIT,
            *base_args(settings),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
            "--quiet",
        ]
    )
    assert result.success, result.exception
    assert isinstance(result.result, RunExecutionResult)
    table = result.result.results[0].agate_table
    assert table is not None
    return str(table.rows[0][0])


def test_dbt_and_our_connections_share_the_configured_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(home=tmp_path, duckdb_memory_limit="1GB")
    assert _memory_limit_seen_by_dbt(settings, tmp_path, monkeypatch) == "953.6 MiB"

    # Hold the file open as dbt-duckdb does (default config) while our warehouse opens it.
    dbt_like = duckdb.connect(str(settings.duckdb_file))
    try:
        warehouse = DuckDBWarehouse(settings.duckdb_file, memory_limit=settings.duckdb_memory_limit)
        with warehouse.session() as session:
            seen = session.query_arrow(SHOW_LIMIT).column("memory_limit")[0].as_py()
    finally:
        dbt_like.close()
    assert seen == "953.6 MiB"


def test_without_a_limit_dbt_keeps_duckdbs_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(home=tmp_path, duckdb_memory_limit=None)
    assert dbt_env(settings)["TIDEMARK_DUCKDB_MEMORY_LIMIT"] == "80%"
    default = DuckDBWarehouse(tmp_path / "other.duckdb").connect()
    try:
        expected = default.sql(SHOW_LIMIT).fetchall()[0][0]
    finally:
        default.close()
    assert _memory_limit_seen_by_dbt(settings, tmp_path, monkeypatch) == expected


def test_an_invalid_limit_is_refused_with_the_setting_named(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", memory_limit="lots")
    with pytest.raises(ValueError, match="TIDEMARK_DUCKDB_MEMORY_LIMIT"):
        warehouse.connect()
