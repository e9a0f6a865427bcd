"""ClickHouse's `DateTime` columns read back as timestamps, not as integers.

ClickHouse's Arrow output writes `DateTime` (seconds) as UINT32 seconds since the epoch; only
`DateTime64` becomes an Arrow timestamp (documented in its Arrow format's type table, with no
setting to change it). Tables our client creates use `DateTime64(6)`, but dbt-clickhouse
builds `cast(x as timestamp)` as `DateTime`, so a model's timestamp would reach Python as an
int where DuckDB and Snowflake give a datetime, and code that reads a relation's Arrow types
(the segment row's JSON, `activation/segment_rows.py`) would write it as a number.

Arrow alone cannot tell such a column from a real UInt32, so when a result holds UINT32
columns the query's own column types are asked for (`DESCRIBE (query)`, one extra round
trip, only then) and those of type DateTime are turned into naive UTC microsecond timestamps.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from connectors.warehouse.arrow_types import NAIVE_UTC

#: A query's column types by name, e.g. {"subscribed_at": "Nullable(DateTime('UTC'))"}.
ColumnTypes = dict[str, str]


def has_uint32(schema: pa.Schema) -> bool:
    """Whether a result may hold DateTime columns (ClickHouse writes them as UINT32)."""
    return any(pa.types.is_uint32(field.type) for field in schema)


def is_datetime(type_name: str) -> bool:
    """`DateTime`, `DateTime('UTC')`, wrapped in Nullable/LowCardinality or not; not DateTime64."""
    inner = type_name
    for wrapper in ("Nullable(", "LowCardinality("):
        while inner.startswith(wrapper):
            inner = inner[len(wrapper) : -1]
    return inner == "DateTime" or inner.startswith("DateTime(")


def datetimes_as_timestamps(table: pa.Table, column_types: Callable[[], ColumnTypes]) -> pa.Table:
    """`table` with its DateTime columns (UINT32 seconds) as naive UTC timestamps.

    `column_types` is called only when the table has UINT32 columns.
    """
    if not has_uint32(table.schema):
        return table
    types = column_types()
    for index, field in enumerate(table.schema):
        if pa.types.is_uint32(field.type) and is_datetime(types.get(field.name, "")):
            micros = pc.multiply(pc.cast(table.column(index), pa.int64()), 1_000_000)
            table = table.set_column(
                index, pa.field(field.name, NAIVE_UTC, field.nullable), pc.cast(micros, NAIVE_UTC)
            )
    return table
