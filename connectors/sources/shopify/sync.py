"""Sync a shop's customers, orders and products into the landing zone, page by page.

Each page is landed (durably, as one Parquet batch of `raw.shopify_<resource>`) before the
stream's cursor moves to the page's newest `updated_at`. A page with a record that cannot be
landed stops that stream with `ShopifyRecordError` and lands nothing of that page; the pages
before it stay landed and counted, and the cursor stays at the last of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow.compute as pc

from connectors.landing.base import LandingZone
from connectors.sources.shopify.client import ShopifyClient
from connectors.sources.shopify.cursors import ShopifyCursors
from connectors.sources.shopify.streams import STREAMS, ShopifyRecordError, ShopifyStream

log = logging.getLogger(__name__)


@dataclass
class StreamSync:
    """What one stream's sync did."""

    stream: str
    cursor_before: datetime | None
    cursor_after: datetime | None = None
    pages: int = 0
    records: int = 0
    landing_keys: list[str] = field(default_factory=list)


def sync_stream(
    client: ShopifyClient,
    stream: ShopifyStream,
    landing: LandingZone,
    cursors: ShopifyCursors,
    on_page: Callable[[StreamSync], None] | None = None,
) -> StreamSync:
    """Land every page of `stream` changed since its cursor; see the module docstring."""
    result = StreamSync(stream.name, cursor_before=cursors.position(stream.name))
    result.cursor_after = result.cursor_before
    for page in client.pages(stream, result.cursor_before):
        try:
            table = stream.to_table(client.config.shop, page.records)
        except ShopifyRecordError as error:
            raise ShopifyRecordError(
                f"{error} (page {page.number}; {result.records} records on earlier pages "
                f"landed, the cursor stays at {result.cursor_after or 'the beginning'})"
            ) from None
        result.pages += 1
        if table.num_rows:
            landed = landing.write_table(stream.dataset.name, table)
            newest = pc.max(table.column("updated_at")).as_py()
            cursors.advance(stream.name, newest)
            result.landing_keys.append(landed.key)
            result.records += table.num_rows
            result.cursor_after = max(filter(None, [result.cursor_after, newest]))
        if on_page is not None:
            on_page(result)
    log.info(
        "shopify %s: %d records in %d pages, cursor %s -> %s",
        stream.name,
        result.records,
        result.pages,
        result.cursor_before,
        result.cursor_after,
    )
    return result


def sync_shopify(
    client: ShopifyClient,
    landing: LandingZone,
    cursors: ShopifyCursors,
    streams: Iterable[str] = tuple(STREAMS),
) -> list[StreamSync]:
    """Sync each of `streams` in turn (customers, orders, products by default)."""
    return [sync_stream(client, STREAMS[name], landing, cursors) for name in streams]
