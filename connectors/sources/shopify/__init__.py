"""Shopify (read-only): customers, orders and products from the Admin REST API into `raw`.

`sync_shopify` pages through each resource updated since its saved cursor, lands every page
as a Parquet batch of `raw.shopify_<resource>` and only then moves the cursor, so a sync that
fails midway resumes where the landed data ends. The landing sensor loads the batches; dbt
turns orders into lifetime value and last order on `profiles`.
"""

from connectors.sources.shopify.client import (
    ShopifyApiError,
    ShopifyClient,
    ShopifyConfig,
    ShopifyNotConfiguredError,
)
from connectors.sources.shopify.cursors import ShopifyCursors
from connectors.sources.shopify.streams import STREAMS, ShopifyRecordError, ShopifyStream
from connectors.sources.shopify.sync import StreamSync, sync_shopify

__all__ = [
    "STREAMS",
    "ShopifyApiError",
    "ShopifyClient",
    "ShopifyConfig",
    "ShopifyCursors",
    "ShopifyNotConfiguredError",
    "ShopifyRecordError",
    "ShopifyStream",
    "StreamSync",
    "sync_shopify",
]
