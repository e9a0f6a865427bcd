"""ClickHouse as the warehouse, through clickhouse-connect.

The same client code reaches a ClickHouse server (`clickhouse://user:password@host:8123/db`,
`https://...`) or chDB, the ClickHouse engine in process (`chdb:///path/to/dir`), which is
what the tests run against.

ClickHouse has no multi-statement transactions. A session's `begin` therefore defers its
writes and `commit` applies them in order; `rollback` drops those not yet applied. A read
inside the transaction first applies what is pending, so the session reads its own writes
(a plan reads the temporary tables it just filled); a rollback after such a read cannot
undo what was applied. The loader reads only before it writes, so a file's rows and its
manifest row go in together for every failure before commit (bad file, lost race seen at
the manifest check); a crash *during* commit can leave a file's rows without its manifest
row, and the file is then loaded again. The dbt staging layer deduplicates every raw
dataset by its key, so such a repeat never reaches a mart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import clickhouse_connect
import pyarrow as pa
from clickhouse_connect.driver.client import Client
from sqlglot import exp

from connectors.warehouse.arrow_types import naive_utc_timestamps
from connectors.warehouse.base import Params, Warehouse, WarehouseSession
from connectors.warehouse.clickhouse_datetimes import ColumnTypes, datetimes_as_timestamps
from connectors.warehouse.portable_sql import engine_statements

#: Session settings our DuckDB-dialect SQL relies on: `CREATE TABLE` without an engine or
#: key makes a MergeTree ordered by nothing, timestamps are read and written in UTC, and NULLs
#: behave as in standard SQL (outer-join misses are NULL, not 0 or ''; CAST keeps NULL) —
#: the last two as dbt/profiles.yml sets them for the models.
SESSION_SETTINGS: dict[str, Any] = {
    "default_table_engine": "MergeTree",
    "create_table_empty_primary_key_by_default": 1,
    "session_timezone": "UTC",
    "join_use_nulls": 1,
    "cast_keep_nullable": 1,
}

_MICROSECOND_TIMESTAMP = exp.DataType.build("DateTime64(6)", dialect="clickhouse")
_NAIVE_TIMESTAMP_TYPES = (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ)


def _is_decimal_as_text(node: exp.Expression) -> bool:
    """`cast(cast(x as decimal(p, s)) as varchar)`: a decimal written out with its scale."""
    return (
        isinstance(node, exp.Cast)
        and node.to.is_type(*exp.DataType.TEXT_TYPES)
        and isinstance(node.this, exp.Cast)
        and node.this.to.is_type(exp.DataType.Type.DECIMAL)
    )


def adapt_for_clickhouse(node: exp.Expression) -> exp.Expression:
    """Fix what sqlglot's translation leaves wrong for ClickHouse, one node at a time.

    - DuckDB's TIMESTAMP has microseconds; sqlglot writes ClickHouse's DateTime (seconds).
    - A column declared NOT NULL (or PRIMARY KEY) must not get sqlglot's Nullable() wrapper:
      ClickHouse refuses `Nullable(String) NOT NULL` and nullable sorting keys.
    - ClickHouse's DELETE needs a WHERE clause; deleting every row says `where true`.
    - A decimal cast to text keeps its scale (12.50) as in DuckDB and Snowflake, not 12.5.
    - DuckDB's sha256 is lowercase hex, ClickHouse's SHA256 raw bytes: it is hex-encoded.
    - A selected `t.c` is named `t.c` when ClickHouse's analyzer sees a join in that scope,
      so a later `x.c` over that subquery does not resolve; it is aliased `c`, as elsewhere.
    """
    if _is_decimal_as_text(node):
        decimal = node.this
        scale = decimal.to.expressions[1] if len(decimal.to.expressions) > 1 else None
        return exp.Anonymous(
            this="toDecimalString",
            expressions=[decimal, scale.this.copy() if scale else exp.Literal.number(0)],
        )
    if isinstance(node, exp.SHA2) and not node.meta.get("hex"):
        # ClickHouse's SHA256 returns the raw 32 bytes; DuckDB's sha256 is lowercase hex.
        node.meta["hex"] = True
        return exp.Lower(this=exp.Hex(this=node))
    if isinstance(node, exp.Select):
        node.set(
            "expressions",
            [
                e.as_(e.name)
                if isinstance(e, exp.Column) and e.table and not isinstance(e.this, exp.Star)
                else e
                for e in node.expressions
            ],
        )
        return node
    if isinstance(node, exp.DataType) and node.is_type(*_NAIVE_TIMESTAMP_TYPES):
        adapted = _MICROSECOND_TIMESTAMP.copy()
        adapted.set("nullable", node.args.get("nullable"))
        return adapted
    if isinstance(node, exp.Delete) and node.args.get("where") is None:
        return node.where("true")
    if isinstance(node, exp.ColumnDef) and isinstance(node.args.get("kind"), exp.DataType):
        constraints = [c.args.get("kind") for c in node.args.get("constraints") or []]
        if any(
            isinstance(kind, exp.NotNullColumnConstraint | exp.PrimaryKeyColumnConstraint)
            and not (isinstance(kind, exp.NotNullColumnConstraint) and kind.args.get("allow_null"))
            for kind in constraints
        ):
            node.args["kind"].set("nullable", False)
    return node


class ClickHouseSession(WarehouseSession):
    def __init__(self, client: Client, warehouse: ClickHouseWarehouse) -> None:
        self.client = client
        self.warehouse = warehouse
        self._deferred: list[Callable[[], object]] | None = None

    def _statements(self, sql: str, params: Params) -> list[str]:
        return self.warehouse.statements(sql, params)

    def _write(self, action: Callable[[], object]) -> None:
        if self._deferred is None:
            action()
        else:
            self._deferred.append(action)

    def execute(self, sql: str, params: Params = None) -> None:
        for statement in self._statements(sql, params):
            self._write(partial(self.client.command, statement))

    def _single(self, sql: str, params: Params) -> str:
        statements = self._statements(sql, params)
        if len(statements) != 1:
            raise ValueError(f"a query must be one statement, got {len(statements)}")
        return statements[0]

    def _apply_pending(self) -> None:
        """Apply deferred writes, so a read in the transaction sees them."""
        if self._deferred:
            pending, self._deferred = self._deferred, []
            for action in pending:
                action()

    def _column_types(self, statement: str) -> ColumnTypes:
        described = self.client.query(f"describe ({statement})")
        return {str(row[0]): str(row[1]) for row in described.result_rows}

    def _readable(self, table: pa.Table, statement: str) -> pa.Table:
        """Timestamps as naive UTC, DateTime columns included (clickhouse_datetimes.py)."""
        table = datetimes_as_timestamps(table, partial(self._column_types, statement))
        return naive_utc_timestamps(table)

    def query_arrow(self, sql: str, params: Params = None) -> pa.Table:
        self._apply_pending()
        statement = self._single(sql, params)
        return self._readable(self.client.query_arrow(statement), statement)

    def query_batches(
        self, sql: str, params: Params = None, batch_rows: int = 100_000
    ) -> Iterator[pa.RecordBatch]:
        self._apply_pending()
        # max_block_size is a hint (chDB returns bigger blocks), hence the re-chunking.
        statement = self._single(sql, params)
        # Described before the stream opens: a server refuses a second query in a session
        # while one is still streaming.
        types = self._column_types(statement)
        stream = self.client.query_arrow_stream(statement, settings={"max_block_size": batch_rows})
        with stream:
            for batch in stream:
                chunk = naive_utc_timestamps(
                    datetimes_as_timestamps(pa.Table.from_batches([batch]), lambda: types)
                )
                yield from chunk.to_batches(max_chunksize=batch_rows)

    def insert_arrow(self, table: str, data: pa.Table | pa.RecordBatch) -> int:
        frame = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
        if frame.num_rows:
            self._write(partial(self.client.insert_arrow, table, frame))
        return int(frame.num_rows)

    def begin(self) -> None:
        if self._deferred is not None:
            raise RuntimeError("a transaction is already open in this session")
        self._deferred = []

    def commit(self) -> None:
        self._apply_pending()
        self._deferred = None

    def rollback(self) -> None:
        self._deferred = None


class ClickHouseWarehouse(Warehouse):
    """A ClickHouse server or chDB directory, named by a clickhouse-connect DSN."""

    dialect = "clickhouse"

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn

    def describe(self) -> str:
        """The DSN without its credentials."""
        scheme, _, rest = self._dsn.partition("://")
        location = rest.rpartition("@")[2]
        return f"clickhouse:{scheme}://{location}"

    def statements(self, sql: str, params: Params = None) -> list[str]:
        """Tidemark's DuckDB-dialect `sql`, parameters bound, in ClickHouse's dialect."""
        return engine_statements(sql, params, self.dialect, adapt_for_clickhouse)

    def transpile(self, sql: str) -> str:
        return ";\n".join(self.statements(sql))

    @contextmanager
    def session(self) -> Iterator[ClickHouseSession]:
        client = clickhouse_connect.get_client(dsn=self._dsn, settings=SESSION_SETTINGS)
        try:
            yield ClickHouseSession(client, self)
        finally:
            client.close()
