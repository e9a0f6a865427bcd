"""Snowflake as the warehouse, through snowflake-connector-python.

Tests reach fakesnow's server with the same connector (`host`/`port`/`protocol: http`).
Snowflake folds unquoted identifiers to upper case; Tidemark's SQL is written lower case, so
result column names are folded back, and callers see `landing_key`, not `LANDING_KEY`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import polars as pl
import pyarrow as pa
import snowflake.connector
from snowflake.connector import SnowflakeConnection
from snowflake.connector.cursor import SnowflakeCursor

from connectors.warehouse.arrow_types import naive_utc_timestamps
from connectors.warehouse.base import Params, Warehouse, WarehouseSession
from connectors.warehouse.portable_sql import engine_statements
from connectors.warehouse.raw_tables import sql_type

#: Rows per insert statement: their JSON must stay well under Snowflake's 16 MB per value.
INSERT_CHUNK_ROWS = 20_000


def _as_callers_expect(table: pa.Table) -> pa.Table:
    lowered = table.rename_columns([name.lower() for name in table.column_names])
    return naive_utc_timestamps(lowered)


def _json_field_sql(field: pa.Field) -> str:
    """The field's value from a flattened JSON row, cast to its type; an all-NULL column
    (Arrow's null type, as `Table.from_pylist` gives a column of Nones) is plain NULL."""
    if pa.types.is_null(field.type):
        return "null"
    return f'value:"{field.name}"::{sql_type(field.type)}'


class SnowflakeSession(WarehouseSession):
    def __init__(self, connection: SnowflakeConnection, warehouse: SnowflakeWarehouse) -> None:
        self.connection = connection
        self.warehouse = warehouse

    def _run(self, sql: str, params: Params) -> SnowflakeCursor:
        """Run every statement of `sql`; the cursor holds the last one's result."""
        cursor = self.connection.cursor()
        for statement in self.warehouse.statements(sql, params):
            cursor.execute(statement)
        return cursor

    def execute(self, sql: str, params: Params = None) -> None:
        self._run(sql, params).close()

    def query_arrow(self, sql: str, params: Params = None) -> pa.Table:
        with self._run(sql, params) as cursor:
            table = cursor.fetch_arrow_all(force_return_table=True)
        return _as_callers_expect(table)

    def query_batches(
        self, sql: str, params: Params = None, batch_rows: int = 100_000
    ) -> Iterator[pa.RecordBatch]:
        with self._run(sql, params) as cursor:
            for chunk in cursor.fetch_arrow_batches():
                yield from _as_callers_expect(chunk).to_batches(max_chunksize=batch_rows)

    def insert_arrow(self, table: str, data: pa.Table | pa.RecordBatch) -> int:
        """Append rows as one JSON document per chunk, flattened and cast in the warehouse.

        One bound string per chunk is one round trip; row-by-row binding (`executemany`)
        took seconds per thousand rows against fakesnow, and PUT/COPY needs a stage that
        not every Snowflake role (nor fakesnow) has.
        """
        frame = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
        columns = ", ".join(frame.column_names)
        values = ", ".join(_json_field_sql(field) for field in frame.schema)
        statement = (
            f"insert into {table} ({columns}) "
            f"select {values} from table(flatten(input => parse_json(?)))"
        )
        with self.connection.cursor() as cursor:
            for batch in frame.to_batches(max_chunksize=INSERT_CHUNK_ROWS):
                if batch.num_rows:
                    document = pl.DataFrame(pa.Table.from_batches([batch])).write_json()
                    cursor.execute(statement, [document])
        return int(frame.num_rows)

    def begin(self) -> None:
        self.execute("begin")

    def commit(self) -> None:
        self.execute("commit")

    def rollback(self) -> None:
        self.execute("rollback")


class SnowflakeWarehouse(Warehouse):
    """A Snowflake account (or fakesnow's server), reached with the connector's arguments."""

    dialect = "snowflake"

    def __init__(self, connect_args: Mapping[str, Any]) -> None:
        self._connect_args = dict(connect_args)

    def describe(self) -> str:
        """Account, database and schema; never the user's credentials."""
        args = self._connect_args
        location = args.get("host") or f"{args.get('account')}.snowflakecomputing.com"
        return f"snowflake:{location}/{args.get('database')}/{args.get('schema')}"

    def statements(self, sql: str, params: Params = None) -> list[str]:
        """Tidemark's DuckDB-dialect `sql`, parameters bound, in Snowflake's dialect."""
        return engine_statements(sql, params, self.dialect)

    def transpile(self, sql: str) -> str:
        return ";\n".join(self.statements(sql))

    @contextmanager
    def session(self) -> Iterator[SnowflakeSession]:
        connection = snowflake.connector.connect(**self._connect_args, paramstyle="qmark")
        try:
            yield SnowflakeSession(connection, self)
        finally:
            connection.close()
