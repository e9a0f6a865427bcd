"""Every dbt model, seed and test as Dagster assets and asset checks.

Runs share the warehouse writers' pool: on DuckDB only one process may write at a time.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from connectors.dbt_project import BUILD_COMMAND, dbt_environment
from dagster_project.defs.dbt.project import tidemark_dbt_project
from dagster_project.defs.dbt.translator import TidemarkDbtTranslator
from dagster_project.resources import WAREHOUSE_WRITERS_POOL, TidemarkResource


@dbt_assets(
    manifest=tidemark_dbt_project().manifest_path,
    project=tidemark_dbt_project(),
    dagster_dbt_translator=TidemarkDbtTranslator(),
    pool=WAREHOUSE_WRITERS_POOL,
)
def tidemark_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, tidemark: TidemarkResource
) -> Iterator[Any]:
    """`dbt build` of the selected models: run, then data-test, each in dependency order.

    dbt runs as a subprocess, started inside `dbt_environment` so it inherits the configured
    warehouse's variables without them staying in this process's environment.
    """
    with dbt_environment(tidemark.settings()):
        invocation = dbt.cli([*BUILD_COMMAND], context=context)
    yield from invocation.stream()
