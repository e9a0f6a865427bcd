"""Sync Shopify every 30 minutes, when a shop is configured; explain the skip otherwise."""

import dagster as dg

from connectors.sources.shopify import ShopifyConfig, ShopifyNotConfiguredError
from dagster_project.defs.shopify.assets import shopify_sync_job
from dagster_project.resources import TidemarkResource


@dg.schedule(
    job=shopify_sync_job,
    cron_schedule="*/30 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Lands Shopify changes every 30 minutes (skips while no shop is configured).",
)
def shopify_sync_schedule(
    context: dg.ScheduleEvaluationContext, tidemark: TidemarkResource
) -> dg.RunRequest | dg.SkipReason:
    try:
        config = ShopifyConfig.from_settings(tidemark.settings())
    except ShopifyNotConfiguredError as unset:
        return dg.SkipReason(str(unset))
    # One run per tick: the tick's time names it, so a re-evaluated tick launches nothing new.
    tick = context.scheduled_execution_time
    return dg.RunRequest(run_key=f"shopify-{config.shop}-{tick:%Y%m%dT%H%M}" if tick else None)
