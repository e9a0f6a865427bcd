"""Rebuild the models every hour, so segments follow the data without anyone pressing a button."""

import dagster as dg

from dagster_project.defs.dbt.assets import tidemark_dbt_models

build_models_job = dg.define_asset_job(
    name="build_models",
    selection=dg.AssetSelection.assets(tidemark_dbt_models),
    description="dbt build of every model: staging, intermediate, marts and segments.",
)

hourly_build_schedule = dg.ScheduleDefinition(
    name="hourly_build",
    job=build_models_job,
    cron_schedule="0 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
