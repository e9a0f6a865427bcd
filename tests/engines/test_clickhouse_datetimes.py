"""A ClickHouse `DateTime` column (what dbt-clickhouse makes of `cast(x as timestamp)`) reads
back as a naive UTC timestamp, as DuckDB's and Snowflake's timestamps do, and a real UInt32
stays an integer; both through `query_arrow` and through `query_batches`.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest

from connectors.settings import Settings
from connectors.warehouse.factory import open_warehouse

pytestmark = pytest.mark.clickhouse

TABLE_SQL = (
    "create table analytics.people (profile_id String, subscribed_at Nullable(DateTime), "
    "visits UInt32, seen_at DateTime('UTC')) engine = MergeTree order by profile_id"
)


@pytest.fixture
def warehouse(tmp_path):
    warehouse = open_warehouse(Settings(home=tmp_path, warehouse="clickhouse"))
    warehouse.execute("create schema if not exists analytics")
    with warehouse.session() as session:
        session.client.command(TABLE_SQL)  # ClickHouse's own DDL: the types dbt leaves
        session.client.command(
            "insert into analytics.people values ('a', '2026-11-26 18:58:57', 7, "
            "'2026-01-02 03:04:05'), ('b', null, 4294967295, '1970-01-01 00:00:00')"
        )
    return warehouse


WANTED = [
    {
        "profile_id": "a",
        "subscribed_at": datetime(2026, 11, 26, 18, 58, 57),
        "visits": 7,
        "seen_at": datetime(2026, 1, 2, 3, 4, 5),
    },
    {
        "profile_id": "b",
        "subscribed_at": None,
        "visits": 4_294_967_295,
        "seen_at": datetime(1970, 1, 1),
    },
]


def test_datetime_columns_read_as_timestamps(warehouse):
    table = warehouse.query_arrow("select * from analytics.people order by profile_id")
    assert table.schema.field("subscribed_at").type == pa.timestamp("us")
    assert table.schema.field("seen_at").type == pa.timestamp("us")
    assert pa.types.is_uint32(table.schema.field("visits").type)
    assert table.to_pylist() == WANTED


def test_batches_read_datetime_columns_as_timestamps(warehouse):
    with warehouse.session() as session:
        rows = [
            row
            for batch in session.query_batches(
                "select * from analytics.people order by profile_id", batch_rows=1
            )
            for row in batch.to_pylist()
        ]
    assert rows == WANTED


def test_an_empty_results_schema_names_datetime_a_timestamp(warehouse):
    # How the plan learns a segment's column types (activation/segment_rows.py).
    schema = warehouse.query_arrow("select * from analytics.people limit 0").schema
    assert schema.field("subscribed_at").type == pa.timestamp("us")
