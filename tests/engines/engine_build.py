"""`dbt build` of a selection on whichever engine `settings` names, as `tidemark build` runs it.

ClickHouse builds go through the chDB bridge (chdb_bridge.py). fakesnow takes temporary tables
by bare name only and cannot describe them (dbt/macros/snowflake_temp_relation.sql), so
Snowflake builds qualify no temporary relation, leave unit tests out (they run on the
other two engines) and refresh incremental models fully, as test_dbt_on_engines.py does.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.dbt_project import dbt_env, run_dbt
from connectors.settings import Settings
from tests.engines.chdb_bridge import dbt_clickhouse_on_chdb


def build_on_engine(
    settings: Settings,
    run_dir: Path,
    select: list[str],
    as_of: datetime,
    dbt_vars: dict[str, Any] | None = None,
) -> None:
    """Build `select` (dbt selectors) at `as_of`; fail the test with dbt's errors if it fails.

    On Snowflake every build is a full refresh: an incremental run's schema check describes
    a temporary table, which fakesnow cannot do.
    """
    flags: list[str] = []
    extra_vars: dict[str, Any] = {"as_of": as_of.isoformat(sep=" "), **(dbt_vars or {})}
    if settings.warehouse == "snowflake":
        flags = ["--exclude-resource-type", "unit_test", "--full-refresh"]
        extra_vars["unqualified_temp_relations"] = True
    with ExitStack() as stack:
        if settings.warehouse == "clickhouse":
            stack.enter_context(dbt_clickhouse_on_chdb(settings.clickhouse_dsn()))
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        for name, value in dbt_env(settings).items():
            patch.setenv(name, value)  # restored after the build
        result = run_dbt(
            settings,
            [
                "build",
                "--select",
                *select,
                "--target-path",
                str(run_dir / "target"),
                "--log-path",
                str(run_dir / "logs"),
                *flags,
            ],
            extra_vars=extra_vars,
        )
    assert result.success, result.error or [(n.unique_id, n.message) for n in result.failed()]
