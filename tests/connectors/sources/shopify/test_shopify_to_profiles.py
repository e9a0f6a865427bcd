"""Shopify orders reach `analytics.profiles`: sync → landing → loader → dbt build."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from dbt.cli.main import dbtRunner

from connectors.loader import load_landing_files
from connectors.settings import REPO_ROOT
from connectors.sources.shopify import sync_shopify
from connectors.warehouse.duckdb import DuckDBWarehouse
from tests.connectors.sources.shopify.shop_data import shop_time

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt")]

DBT_DIR = REPO_ROOT / "dbt"
NOW = datetime(2026, 11, 27, 12, 0)


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)


def dbt_build(tmp_path, monkeypatch, warehouse_file) -> None:
    monkeypatch.setenv("TIDEMARK_DUCKDB_PATH", str(warehouse_file))
    result = dbtRunner().invoke(
        [
            "build",
            "--select",
            "+profiles",
            "--indirect-selection",
            "cautious",
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
            "--target",
            "duckdb",
            "--target-path",
            str(tmp_path / "dbt-target"),
            "--log-path",
            str(tmp_path / "dbt-logs"),
            "--vars",
            json.dumps({"as_of": "2024-06-01 12:00:00"}),
            "--quiet",
        ]
    )
    assert result.success, result.exception or [
        f"{r.node.unique_id}: {r.message}"
        for r in result.result
        if r.status not in ("success", "pass")
    ]


def load_and_build(tmp_path, monkeypatch, landing) -> DuckDBWarehouse:
    """Load what the syncs landed into raw and build the profiles mart from it."""
    warehouse_file = tmp_path / "warehouse.duckdb"
    warehouse = DuckDBWarehouse(warehouse_file, lock_timeout_s=30)
    load_landing_files(landing, warehouse, now=NOW)
    dbt_build(tmp_path, monkeypatch, warehouse_file)
    return warehouse


def test_orders_give_shopify_customers_their_lifetime_value_and_last_order(
    tmp_path, monkeypatch, shop_server, client, landing, cursors
):
    orders = shop_server.data["orders"]
    orders[6]["cancelled_at"] = shop_time(36)  # customer 1001's second order: cancelled
    orders[4]["test"] = True  # customer 1004's only order: a test order
    sync_shopify(client, landing, cursors)
    # A later sync brings a changed order: the newest version's total counts, once.
    orders[2] |= {"total_price": "35.00", "updated_at": shop_time(60)}
    sync_shopify(client, landing, cursors, streams=["orders"])

    warehouse = load_and_build(tmp_path, monkeypatch, landing)

    rows = warehouse.query_arrow(
        "select profile_id, email, orders_count, lifetime_value, last_order_at "
        "from analytics.profiles where profile_id like 'shopify:%' order by profile_id"
    ).to_pylist()
    by_id = {row["profile_id"]: row for row in rows}
    assert sorted(by_id) == [f"shopify:{1000 + i}" for i in range(5)]
    expected = {  # order i belongs to customer 1000 + i % 5 and totals 10 * (i + 1) + 0.50
        "shopify:1000": (2, Decimal("71.00"), 5),  # orders 0 and 5
        "shopify:1001": (1, Decimal("20.50"), 1),  # order 6 cancelled
        "shopify:1002": (1, Decimal("35.00"), 2),  # order 2, its newest version
        "shopify:1003": (1, Decimal("40.50"), 3),
        "shopify:1004": (0, Decimal("0.00"), None),  # only a test order
    }
    for profile_id, (count, value, last_order) in expected.items():
        row = by_id[profile_id]
        assert (row["orders_count"], row["lifetime_value"]) == (count, value), profile_id
        assert row["last_order_at"] == (
            None if last_order is None else utc(orders[last_order]["processed_at"])
        )
    assert by_id["shopify:1003"]["email"] == "customer3@example.com"


def _consent(state: str, at: str, **extra: str) -> dict[str, str]:
    """Shopify's `email_marketing_consent` / `sms_marketing_consent` object."""
    return {"state": state, "opt_in_level": "single_opt_in", "consent_updated_at": at, **extra}


def test_shopify_marketing_consent_becomes_consent_per_channel_in_profiles(
    tmp_path, monkeypatch, shop_server, client, landing, cursors
):
    customers = shop_server.data["customers"]
    customers[0] |= {
        "email_marketing_consent": _consent("subscribed", "2024-02-10T08:00:00-05:00"),
        "sms_marketing_consent": _consent(
            "unsubscribed", "2024-02-11T09:30:00-05:00", consent_collected_from="OTHER"
        ),
    }
    # Older API versions: accepts_marketing, dated by accepts_marketing_updated_at.
    customers[1] |= {"accepts_marketing": True, "accepts_marketing_updated_at": shop_time(-24)}
    # The newer object wins over accepts_marketing; a pending double opt-in is no grant.
    customers[2] |= {
        "accepts_marketing": True,
        "email_marketing_consent": _consent("pending", "2024-02-12T10:00:00-05:00"),
    }
    customers[3] |= {"accepts_marketing": False, "accepts_marketing_updated_at": shop_time(-48)}
    # customers[4] keeps the fixture's undated accepts_marketing false: never asked.
    sync_shopify(client, landing, cursors)
    # A later sync: customer 1000 unsubscribed from email; the newest version decides.
    customers[0] = customers[0] | {
        "email_marketing_consent": _consent("unsubscribed", "2024-03-05T07:00:00-05:00"),
        "updated_at": shop_time(100),
    }
    sync_shopify(client, landing, cursors, streams=["customers"])

    warehouse = load_and_build(tmp_path, monkeypatch, landing)

    rows = warehouse.query_arrow(
        "select profile_id, email_consent, email_consent_at, sms_consent, sms_consent_at "
        "from analytics.profiles where profile_id like 'shopify:%' order by profile_id"
    ).to_pylist()
    assert [tuple(row.values()) for row in rows] == [
        (
            "shopify:1000",
            "withdrawn",
            utc("2024-03-05T07:00:00-05:00"),
            "withdrawn",
            utc("2024-02-11T09:30:00-05:00"),
        ),
        ("shopify:1001", "granted", utc(shop_time(-24)), "never_asked", None),
        ("shopify:1002", "never_asked", None, "never_asked", None),
        ("shopify:1003", "withdrawn", utc(shop_time(-48)), "never_asked", None),
        ("shopify:1004", "never_asked", None, "never_asked", None),
    ]
