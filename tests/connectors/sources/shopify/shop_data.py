"""A small shop built from the real Admin API response shapes in ../shared/fixtures/shopify.

Every record is a copy of a fixture record (all its fields, nested objects included) with its
id, email, total and timestamps changed, so the shop has several customers, orders and
products whose `updated_at` values are distinct and known.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from tests.fixtures.shared_payloads import SHARED_FIXTURES

SHOPIFY = SHARED_FIXTURES / "shopify"
SHOP_OFFSET = timezone(timedelta(hours=-5))  # Shopify reports times in the shop's zone
START = datetime(2024, 3, 1, 9, 0, tzinfo=SHOP_OFFSET)


def fixture(name: str) -> Any:
    return json.loads((SHOPIFY / name).read_text())


def shop_time(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


def customers(count: int = 5) -> list[dict[str, Any]]:
    templates = [
        fixture("shopify-api-node/customer_list.json")["customers"][0],
        fixture("shopify_python_api/customer.json")["customer"],
        fixture("shopify_python_api/customers_search.json")["customers"][0],
    ]
    made = []
    for i in range(count):
        record = copy.deepcopy(templates[i % len(templates)])
        record |= {
            "id": 1000 + i,
            "email": f"customer{i}@example.com",
            "created_at": shop_time(i),
            "updated_at": shop_time(10 + i),
        }
        made.append(record)
    return made


def orders(customer_ids: list[int], count: int = 7) -> list[dict[str, Any]]:
    templates = [
        fixture("shopify-api-node/order_list.json")["orders"][0],
        fixture("shopify_python_api/orders.json")["orders"][0],
        fixture("shopify_python_api/order.json")["order"],
    ]
    made = []
    for i in range(count):
        record = copy.deepcopy(templates[i % len(templates)])
        customer_id = customer_ids[i % len(customer_ids)]
        record |= {
            "id": 5000 + i,
            "email": f"customer{customer_ids.index(customer_id)}@example.com",
            "total_price": f"{10 * (i + 1)}.50",
            "created_at": shop_time(20 + i),
            "processed_at": shop_time(20 + i),
            "updated_at": shop_time(30 + i),
            "cancelled_at": None,
            "test": False,
        }
        record["customer"] = {**(record.get("customer") or {}), "id": customer_id}
        made.append(record)
    return made


def products() -> list[dict[str, Any]]:
    records = [
        *fixture("shopify_python_api/products.json"),
        *fixture("shopify-api-node/product_list.json")["products"],
    ]
    made = []
    for i, template in enumerate(records):
        record = copy.deepcopy(template)
        record |= {"id": 9000 + i, "updated_at": shop_time(40 + i)}
        made.append(record)
    return made


def shop() -> dict[str, list[dict[str, Any]]]:
    people = customers()
    return {
        "customers": people,
        "orders": orders([c["id"] for c in people]),
        "products": products(),
    }
