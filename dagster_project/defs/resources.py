"""Resources shared by every area of the code location."""

import dagster as dg

from dagster_project.defs.dbt.project import dbt_cli_resource
from dagster_project.resources import TidemarkResource


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={"tidemark": TidemarkResource(), "dbt": dbt_cli_resource()},
    )
