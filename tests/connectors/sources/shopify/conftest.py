"""A local Shopify server with a small shop, and a client on fake time pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from connectors.landing import LocalLandingZone
from connectors.ops_store import create_ops_engine, create_schema, ops_sessionmaker
from connectors.sources.shopify import ShopifyClient, ShopifyConfig, ShopifyCursors
from connectors.sources.shopify.client import RetryPolicy
from tests.connectors.sources.shopify.shop_data import shop
from tests.connectors.sources.shopify.shopify_server import ShopifyServer

TOKEN = "shpat_0123456789abcdef0123456789abcdef"
SHOP = "tidemark-test.myshopify.com"
PAGE_SIZE = 2


@pytest.fixture
def shop_server() -> Iterator[ShopifyServer]:
    server = ShopifyServer(TOKEN, shop())
    server.http.start()
    try:
        yield server
    finally:
        server.http.stop()


@pytest.fixture
def sleeps() -> list[float]:
    """What the client waited, in order; nothing waits for real."""
    return []


@pytest.fixture
def client(shop_server, sleeps) -> Iterator[ShopifyClient]:
    config = ShopifyConfig(SHOP, SecretStr(TOKEN), shop_server.api_url)
    with ShopifyClient(
        config, sleep=sleeps.append, page_size=PAGE_SIZE, retry=RetryPolicy(max_attempts=4)
    ) as shopify:
        yield shopify


@pytest.fixture
def landing(tmp_path) -> LocalLandingZone:
    return LocalLandingZone(tmp_path / "landing")


@pytest.fixture
def cursors(tmp_path) -> ShopifyCursors:
    engine = create_ops_engine(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    create_schema(engine)
    return ShopifyCursors(ops_sessionmaker(engine), SHOP)
