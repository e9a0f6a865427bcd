"""The Shopify resources Tidemark syncs, and how one API record becomes one `raw` row.

Each row keeps the typed columns the dbt models use and, in `record`, the whole resource as
JSON: a field Shopify adds, renames or retypes still lands, and the typed columns read what
they need leniently (a price sent as a number instead of a string is still a price). What a
row cannot be without (its id, its timestamps, an order's total) is required: a record that
lacks one stops the sync with an error naming the resource, the record and the field,
before anything of its page lands.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from connectors.iso_timestamps import parse_utc
from connectors.raw_schemas import SHOPIFY_CUSTOMERS, SHOPIFY_ORDERS, SHOPIFY_PRODUCTS, RawDataset

Record = Mapping[str, Any]


class ShopifyRecordError(ValueError):
    """A record the sync cannot land (a required field missing or unreadable)."""


@dataclass(frozen=True)
class ShopifyStream:
    """One Admin API resource: where it is listed, and its raw dataset."""

    name: str
    dataset: RawDataset
    required: tuple[str, ...]
    columns: Callable[[Record], dict[str, Any]]
    extra_params: Mapping[str, str]

    @property
    def path(self) -> str:
        return f"{self.name}.json"

    def to_table(self, shop: str, records: Sequence[Record]) -> pa.Table:
        """The page's records as a batch of the stream's dataset, or `ShopifyRecordError`."""
        rows: dict[str, list[Any]] = {name: [] for name in self.dataset.schema.names}
        for record in records:
            row = self._row(shop, record)
            for name, value in row.items():
                rows[name].append(value)
        return pa.Table.from_pydict(rows, schema=self.dataset.schema)

    def _row(self, shop: str, record: Record) -> dict[str, Any]:
        if not isinstance(record, Mapping):
            raise ShopifyRecordError(f"{self.name}: a record is not a JSON object: {record!r:.80}")
        missing = [name for name in self.required if record.get(name) in (None, "")]
        if missing:
            raise ShopifyRecordError(
                f"{self.name} record {record.get('id', '(no id)')} is missing required "
                f"field{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
            )
        try:
            columns = self.columns(record)
        except (TypeError, ValueError) as error:
            raise ShopifyRecordError(f"{self.name} record {record.get('id')}: {error}") from None
        return {
            "shop": shop,
            **columns,
            "created_at": timestamp(record, "created_at"),
            "updated_at": timestamp(record, "updated_at"),
            "record": json.dumps(record, separators=(",", ":"), sort_keys=True),
        }


def timestamp(record: Record, name: str) -> datetime | None:
    """An ISO 8601 field as naive UTC (Shopify sends the shop's offset)."""
    value = record.get(name)
    if value in (None, ""):
        return None
    try:
        return parse_utc(str(value))
    except ValueError:
        raise ValueError(f"field {name} is not an ISO 8601 time: {value!r}") from None


def text(value: Any) -> str | None:
    """A text column from whatever the field holds now (a number, an object: kept as JSON)."""
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(value, sort_keys=True)


def identifier(value: Any) -> str | None:
    return None if value is None else str(value)


def money(record: Record, name: str) -> float | None:
    value = record.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):  # a *_set money object: {"shop_money": {"amount": ...}}
        value = value.get("shop_money", {}).get("amount")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"field {name} is not an amount: {value!r}") from None


def flag(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"expected true or false, got {value!r}")


def _nested(record: Record, name: str) -> Mapping[str, Any]:
    value = record.get(name)
    return value if isinstance(value, Mapping) else {}


def _customer_columns(record: Record) -> dict[str, Any]:
    return {
        "customer_id": identifier(record["id"]),
        "email": text(record.get("email")),
        "phone": text(record.get("phone")),
        "first_name": text(record.get("first_name")),
        "last_name": text(record.get("last_name")),
        "country_code": text(_nested(record, "default_address").get("country_code")),
        "state": text(record.get("state")),
        "accepts_marketing": flag(record.get("accepts_marketing")),
    }


def _order_columns(record: Record) -> dict[str, Any]:
    return {
        "order_id": identifier(record["id"]),
        "customer_id": identifier(_nested(record, "customer").get("id")),
        "email": text(record.get("email")),
        "currency": text(record.get("currency")),
        "total_price": money(record, "total_price"),
        "financial_status": text(record.get("financial_status")),
        "is_test": flag(record.get("test")),
        "processed_at": timestamp(record, "processed_at"),
        "cancelled_at": timestamp(record, "cancelled_at"),
    }


def _product_columns(record: Record) -> dict[str, Any]:
    return {
        "product_id": identifier(record["id"]),
        "title": text(record.get("title")),
        "vendor": text(record.get("vendor")),
        "product_type": text(record.get("product_type")),
        "handle": text(record.get("handle")),
    }


_TIMES = ("created_at", "updated_at")

CUSTOMERS = ShopifyStream(
    name="customers",
    dataset=SHOPIFY_CUSTOMERS,
    required=("id", *_TIMES),
    columns=_customer_columns,
    extra_params={},
)
ORDERS = ShopifyStream(
    name="orders",
    dataset=SHOPIFY_ORDERS,
    required=("id", "total_price", *_TIMES),
    columns=_order_columns,
    extra_params={"status": "any"},  # the default lists open orders only
)
PRODUCTS = ShopifyStream(
    name="products",
    dataset=SHOPIFY_PRODUCTS,
    required=("id", *_TIMES),
    columns=_product_columns,
    extra_params={},
)

STREAMS: dict[str, ShopifyStream] = {s.name: s for s in (CUSTOMERS, ORDERS, PRODUCTS)}
