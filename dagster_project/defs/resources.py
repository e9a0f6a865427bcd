"""Resources shared by every area of the code location."""

import dagster as dg

from connectors.dbt_project import export_dbt_env
from connectors.settings import get_settings
from dagster_project.defs.dbt.project import dbt_cli_resource
from dagster_project.resources import TidemarkResource


@dg.definitions
def resources() -> dg.Definitions:
    export_dbt_env(get_settings())
    return dg.Definitions(
        resources={"tidemark": TidemarkResource(), "dbt": dbt_cli_resource()},
    )
