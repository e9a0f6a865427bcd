"""`shopify/sync`: land what changed in the shop since the last sync.

The asset writes the landing zone and the ops store (the cursors), never the warehouse, so it
stays out of the warehouse writers' pool; the landing sensor then loads the batches into
`raw.shopify_*`, and the hourly build carries orders into `profiles`.
"""

import dagster as dg

from activation.from_settings import ops_sessions
from connectors.settings import Settings
from connectors.sources.shopify import (
    ShopifyClient,
    ShopifyConfig,
    ShopifyCursors,
    StreamSync,
    sync_shopify,
)
from dagster_project.resources import TidemarkResource

SHOPIFY_SYNC_KEY = dg.AssetKey(["shopify", "sync"])


def run_shopify_sync(settings: Settings, tidemark: TidemarkResource) -> list[StreamSync]:
    """One sync of every stream with the shop, cursors and landing zone from settings."""
    config = ShopifyConfig.from_settings(settings)
    cursors = ShopifyCursors(ops_sessions(settings), config.shop)
    with ShopifyClient(config) as client:
        return sync_shopify(client, tidemark.landing(), cursors)


def sync_metadata(results: list[StreamSync]) -> dict[str, dg.MetadataValue]:
    metadata: dict[str, dg.MetadataValue] = {}
    for result in results:
        metadata[f"{result.stream}_records"] = dg.MetadataValue.int(result.records)
        metadata[f"{result.stream}_pages"] = dg.MetadataValue.int(result.pages)
        cursor = result.cursor_after.isoformat() if result.cursor_after else "none"
        metadata[f"{result.stream}_cursor"] = dg.MetadataValue.text(cursor)
    return metadata


@dg.asset(
    key=SHOPIFY_SYNC_KEY,
    group_name="shopify",
    kinds={"shopify"},
    description="Customers, orders and products changed in Shopify since the last sync, "
    "landed for `raw.shopify_*` (read-only Admin API; cursor in the ops store).",
)
def shopify_sync(
    context: dg.AssetExecutionContext, tidemark: TidemarkResource
) -> dg.MaterializeResult[None]:
    results = run_shopify_sync(tidemark.settings(), tidemark)
    for result in results:
        context.log.info(
            "%s: %d records in %d pages, cursor %s",
            result.stream,
            result.records,
            result.pages,
            result.cursor_after,
        )
    return dg.MaterializeResult(metadata=sync_metadata(results))


shopify_sync_job = dg.define_asset_job(
    name="shopify_sync",
    selection=dg.AssetSelection.assets(shopify_sync),
    description="Land what changed in Shopify since the last sync.",
)
