"""The landing datasets and the schema each batch file must have.

This is the contract between whatever writes the landing zone (the demo generator, the ingest
API, provider webhooks, CSV imports) and the loader that copies files into the warehouse's
`raw` schema. A file whose columns or types do not match is quarantined, never half-loaded.

Timestamps are UTC without a zone attached (`timestamp[us]`), the convention of every `*_at`
column in the warehouse. Ids are strings so customers can bring their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TIMESTAMP = pa.timestamp("us")


@dataclass(frozen=True)
class RawDataset:
    """A landing dataset: its `raw.<name>` table, schema, key and event-time column."""

    name: str
    schema: pa.Schema
    key: str
    time_column: str
    description: str

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.schema if not f.nullable)


def _schema(*fields: tuple[str, pa.DataType, bool]) -> pa.Schema:
    return pa.schema([pa.field(name, dtype, nullable=nullable) for name, dtype, nullable in fields])


PROFILES = RawDataset(
    name="profiles",
    key="profile_id",
    time_column="updated_at",
    description="Profile records as sources report them; the newest `updated_at` per id wins.",
    schema=_schema(
        ("profile_id", pa.string(), False),
        ("email", pa.string(), True),
        ("phone", pa.string(), True),
        ("first_name", pa.string(), True),
        ("last_name", pa.string(), True),
        ("country", pa.string(), True),
        ("time_zone", pa.string(), True),
        ("created_at", TIMESTAMP, False),
        ("updated_at", TIMESTAMP, False),
        ("source", pa.string(), False),
    ),
)

CONSENT_EVENTS = RawDataset(
    name="consent_events",
    key="consent_event_id",
    time_column="occurred_at",
    description="Consent given or withdrawn per profile and channel; no event means never asked.",
    schema=_schema(
        ("consent_event_id", pa.string(), False),
        ("profile_id", pa.string(), False),
        ("channel", pa.string(), False),  # email | sms
        ("status", pa.string(), False),  # granted | withdrawn
        ("occurred_at", TIMESTAMP, False),
        ("source", pa.string(), False),
    ),
)

EVENTS = RawDataset(
    name="events",
    key="event_id",
    time_column="occurred_at",
    description="Behavioural events: page_view, product_view, add_to_cart, order.",
    schema=_schema(
        ("event_id", pa.string(), False),
        ("profile_id", pa.string(), False),
        ("event_type", pa.string(), False),
        ("occurred_at", TIMESTAMP, False),
        ("product_id", pa.string(), True),
        ("order_id", pa.string(), True),
        ("revenue", pa.float64(), True),
        ("quantity", pa.int32(), True),
        ("source", pa.string(), False),
    ),
)

MESSAGE_EVENTS = RawDataset(
    name="message_events",
    key="message_event_id",
    time_column="occurred_at",
    description="What happened to sent messages: sent, delivered, open, click, bounce, "
    "complaint, unsubscribe; from providers' feedback (and the demo's history).",
    schema=_schema(
        ("message_event_id", pa.string(), False),
        ("message_id", pa.string(), False),
        ("profile_id", pa.string(), True),
        ("channel", pa.string(), False),
        ("event_type", pa.string(), False),
        ("occurred_at", TIMESTAMP, False),
        ("provider", pa.string(), False),
        ("recipient", pa.string(), True),
        ("campaign_id", pa.string(), True),
        ("bounce_type", pa.string(), True),  # hard | soft, bounces only
        ("url", pa.string(), True),  # clicks only
    ),
)

# Shopify (read-only sync): the columns the models use, typed, plus `record`, the whole
# resource as the Admin API returned it (JSON), so a field Shopify adds or changes lands too.
SHOPIFY_CUSTOMERS = RawDataset(
    name="shopify_customers",
    key="customer_id",
    time_column="updated_at",
    description="Shopify customers as the Admin API reports them; the newest `updated_at` wins.",
    schema=_schema(
        ("shop", pa.string(), False),
        ("customer_id", pa.string(), False),
        ("email", pa.string(), True),
        ("phone", pa.string(), True),
        ("first_name", pa.string(), True),
        ("last_name", pa.string(), True),
        ("country_code", pa.string(), True),
        ("state", pa.string(), True),
        ("accepts_marketing", pa.bool_(), True),
        ("created_at", TIMESTAMP, False),
        ("updated_at", TIMESTAMP, False),
        ("record", pa.string(), False),
    ),
)

SHOPIFY_ORDERS = RawDataset(
    name="shopify_orders",
    key="order_id",
    time_column="updated_at",
    description="Shopify orders (any status) from the Admin API; the newest `updated_at` wins.",
    schema=_schema(
        ("shop", pa.string(), False),
        ("order_id", pa.string(), False),
        ("customer_id", pa.string(), True),
        ("email", pa.string(), True),
        ("currency", pa.string(), True),
        ("total_price", pa.float64(), False),
        ("financial_status", pa.string(), True),
        ("is_test", pa.bool_(), True),
        ("processed_at", TIMESTAMP, True),
        ("cancelled_at", TIMESTAMP, True),
        ("created_at", TIMESTAMP, False),
        ("updated_at", TIMESTAMP, False),
        ("record", pa.string(), False),
    ),
)

SHOPIFY_PRODUCTS = RawDataset(
    name="shopify_products",
    key="product_id",
    time_column="updated_at",
    description="Shopify products as the Admin API reports them; the newest `updated_at` wins.",
    schema=_schema(
        ("shop", pa.string(), False),
        ("product_id", pa.string(), False),
        ("title", pa.string(), True),
        ("vendor", pa.string(), True),
        ("product_type", pa.string(), True),
        ("handle", pa.string(), True),
        ("created_at", TIMESTAMP, False),
        ("updated_at", TIMESTAMP, False),
        ("record", pa.string(), False),
    ),
)

DATASETS: dict[str, RawDataset] = {
    d.name: d
    for d in (
        PROFILES,
        CONSENT_EVENTS,
        EVENTS,
        MESSAGE_EVENTS,
        SHOPIFY_CUSTOMERS,
        SHOPIFY_ORDERS,
        SHOPIFY_PRODUCTS,
    )
}


def dataset(name: str) -> RawDataset:
    """Look a dataset up by name, with an error that lists the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise KeyError(f"unknown landing dataset {name!r}; known datasets: {known}") from None
