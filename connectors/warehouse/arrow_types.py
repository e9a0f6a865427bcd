"""Results in the types Tidemark's callers expect, whichever engine produced them.

Every `*_at` column is UTC without a zone, at microsecond precision (`timestamp[us]`), as
DuckDB returns it. ClickHouse hands timestamps back tagged with the session zone and
Snowflake at nanosecond precision; callers comparing or joining them with DuckDB's would
otherwise see different types for the same data.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

NAIVE_UTC = pa.timestamp("us")


def naive_utc_timestamps(table: pa.Table) -> pa.Table:
    """`table` with every timestamp column as naive UTC microseconds.

    Arrow keeps zoned timestamps as UTC instants, so dropping the zone keeps the UTC wall
    time; nanoseconds beyond the microsecond are truncated, as DuckDB's TIMESTAMP would.
    """
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type != NAIVE_UTC:
            column = pc.cast(table.column(index), NAIVE_UTC, safe=False)
            table = table.set_column(index, pa.field(field.name, NAIVE_UTC, field.nullable), column)
    return table
