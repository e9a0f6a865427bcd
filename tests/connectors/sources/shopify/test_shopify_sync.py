"""The Shopify sync against a local Admin API on a real socket: pages, cursors, misbehaviour."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest

from connectors.loader import load_landing_files
from connectors.sources.shopify import ShopifyApiError, ShopifyRecordError, sync_shopify
from connectors.sources.shopify.client import next_page_info
from connectors.sources.shopify.streams import STREAMS
from connectors.sources.shopify.sync import sync_stream
from connectors.warehouse.duckdb import DuckDBWarehouse
from tests.connectors.destinations.servers.http_server import Reply
from tests.connectors.sources.shopify.conftest import SHOP, TOKEN

NOW = datetime(2026, 11, 27, 12, 0)


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)


def landed_ids(landing, dataset: str, column: str) -> list[str]:
    ids = []
    for file in landing.list(dataset):
        ids += pq.read_table(landing.root / file.key).column(column).to_pylist()
    return ids


def list_requests(server, resource: str):
    return [r for r in server.requests if r.path.endswith(f"/{resource}.json")]


def test_a_first_sync_lands_every_resource_page_by_page_and_loads_into_raw(
    tmp_path, shop_server, client, landing, cursors, sleeps
):
    results = {r.stream: r for r in sync_shopify(client, landing, cursors)}

    data = shop_server.data
    assert {name: r.records for name, r in results.items()} == {
        "customers": 5,
        "orders": 7,
        "products": 6,
    }
    assert results["orders"].pages == 4  # 7 orders, 2 per page: pages follow the Link header
    first, *following = list_requests(shop_server, "orders")
    assert first.query["status"] == "any" and "updated_at_min" not in first.query
    assert all(set(r.query) == {"limit", "page_info"} for r in following)
    newest = max(utc(o["updated_at"]) for o in data["orders"])
    assert cursors.position("orders") == newest == results["orders"].cursor_after
    assert sleeps == []

    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb", lock_timeout_s=30)
    report = load_landing_files(landing, warehouse, now=NOW)
    assert report.rows_by_dataset() == {
        "shopify_customers": 5,
        "shopify_orders": 7,
        "shopify_products": 6,
    }
    assert not report.with_status("quarantined")
    order = warehouse.query_arrow(
        "select * from raw.shopify_orders where order_id = '5001'"
    ).to_pylist()[0]
    source = next(o for o in data["orders"] if o["id"] == 5001)
    assert order["shop"] == SHOP
    assert order["customer_id"] == "1001" and order["total_price"] == 20.5
    assert order["currency"] == "USD" and order["is_test"] is False
    assert order["updated_at"] == utc(source["updated_at"])  # the shop's -05:00 made UTC
    assert json.loads(order["record"]) == source  # every field, nested ones included


def test_the_next_sync_asks_only_for_changes_since_the_cursor(
    shop_server, client, landing, cursors
):
    sync_shopify(client, landing, cursors, streams=["customers"])
    cursor = cursors.position("customers")
    changed = shop_server.data["customers"][1]
    changed["updated_at"] = "2024-03-05T10:00:00-05:00"
    changed["first_name"] = "Changed"
    shop_server.requests.clear()

    (result,) = sync_shopify(client, landing, cursors, streams=["customers"])

    (request,) = list_requests(shop_server, "customers")
    assert utc(request.query["updated_at_min"]) == cursor
    # The filter is inclusive: the newest customer of the last sync comes again (harmless,
    # staging keeps the newest version per id), then the changed one.
    assert result.records == 2
    assert cursors.position("customers") == datetime(2024, 3, 5, 15, 0)
    assert landed_ids(landing, "shopify_customers", "customer_id").count("1001") == 2


def test_429_waits_what_retry_after_says_without_sleeping_for_real(
    shop_server, client, landing, cursors, sleeps
):
    shop_server.throttle(times=2, retry_after="2.0")

    (result,) = sync_shopify(client, landing, cursors, streams=["products"])

    assert sleeps == [2.0, 2.0]
    assert result.records == 6
    assert sorted(landed_ids(landing, "shopify_products", "product_id")) == [
        str(9000 + i) for i in range(6)
    ]


def test_5xx_and_dropped_connections_are_retried_with_backoff(
    shop_server, client, landing, cursors, sleeps
):
    shop_server.fail(503)
    shop_server.faults.append(Reply(200, drop=True))
    shop_server.fail(500)

    (result,) = sync_shopify(client, landing, cursors, streams=["customers"])

    assert sleeps == [1.0, 2.0, 4.0]
    assert result.records == 5


def test_a_server_that_keeps_failing_stops_the_sync_and_the_cursor_stays(
    shop_server, client, landing, cursors, sleeps
):
    shop_server.fail(502, times=10)

    with pytest.raises(ShopifyApiError, match=r"failed after 4 attempts: HTTP 502") as failed:
        sync_shopify(client, landing, cursors, streams=["orders"])

    assert not failed.value.fatal
    assert sleeps == [1.0, 2.0, 4.0]
    assert landing.list() == [] and cursors.position("orders") is None


def test_a_rejected_token_is_fatal_and_never_shows_in_errors_or_logs(
    shop_server, landing, cursors, caplog
):
    from pydantic import SecretStr

    from connectors.sources.shopify import ShopifyClient, ShopifyConfig

    wrong = "shpat_wrongwrongwrongwrong"
    config = ShopifyConfig(SHOP, SecretStr(wrong), shop_server.api_url)
    caplog.set_level(logging.DEBUG)
    with (
        ShopifyClient(config, sleep=lambda s: None) as client,
        pytest.raises(ShopifyApiError) as failed,
    ):
        sync_shopify(client, landing, cursors)

    assert failed.value.fatal and "HTTP 401" in str(failed.value)
    assert len(shop_server.requests) == 1  # credentials are not retried
    assert wrong not in str(failed.value) and wrong not in caplog.text
    assert TOKEN not in caplog.text
    assert shop_server.requests[0].headers["x-shopify-access-token"] == wrong


def test_a_page_with_changed_and_unknown_fields_still_lands(shop_server, client, landing, cursors):
    def changed(page):
        for order in page:
            order["total_price"] = float(order["total_price"])  # a string became a number
            order["loyalty_tier"] = {"name": "gold"}  # a field we have never seen
            del order["email"]
            order["financial_status"] = 3  # a retyped text field
        return page

    shop_server.page_edits[("orders", 2)] = changed

    (result,) = sync_shopify(client, landing, cursors, streams=["orders"])

    assert result.records == 7
    tables = [pq.read_table(landing.root / key) for key in result.landing_keys]
    second = tables[1].to_pylist()
    assert [row["total_price"] for row in second] == [30.5, 40.5]
    assert [row["email"] for row in second] == [None, None]
    assert second[0]["financial_status"] == "3"
    assert json.loads(second[0]["record"])["loyalty_tier"] == {"name": "gold"}


def test_a_missing_required_field_stops_at_its_page_and_the_rerun_resumes_there(
    shop_server, client, landing, cursors
):
    def broken(page):
        del page[1]["updated_at"]
        return page

    shop_server.page_edits[("customers", 2)] = broken

    with pytest.raises(ShopifyRecordError) as failed:
        sync_stream(client, STREAMS["customers"], landing, cursors)

    message = str(failed.value)
    assert "customers record 1003 is missing required field updated_at (page 2;" in message
    assert "2 records on earlier pages landed" in message
    assert landed_ids(landing, "shopify_customers", "customer_id") == ["1000", "1001"]
    page_one_newest = utc(shop_server.data["customers"][1]["updated_at"])
    assert cursors.position("customers") == page_one_newest

    del shop_server.page_edits[("customers", 2)]  # Shopify fixed the record
    shop_server.requests.clear()
    result = sync_stream(client, STREAMS["customers"], landing, cursors)

    assert utc(list_requests(shop_server, "customers")[0].query["updated_at_min"]) == (
        page_one_newest
    )
    assert result.records == 4  # the boundary customer again, then the three not yet landed
    assert sorted(set(landed_ids(landing, "shopify_customers", "customer_id"))) == [
        "1000", "1001", "1002", "1003", "1004",
    ]  # fmt: skip


def test_the_next_link_is_found_among_several():
    header = (
        "<https://shop.example/admin/api/2024-10/orders.json?limit=2&page_info=prev1>; "
        'rel="previous", '
        '<https://shop.example/admin/api/2024-10/orders.json?limit=2&page_info=next2>; rel="next"'
    )
    assert next_page_info(header) == "next2"
    assert next_page_info('<https://x/orders.json?page_info=p>; rel="previous"') is None
    assert next_page_info("") is None
