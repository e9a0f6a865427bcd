"""The warehouse interface the engine, the loader and the dashboards program against.

Tidemark's own SQL is written once, in the DuckDB dialect; each engine's `Warehouse` runs it
through `transpile` (sqlglot) before executing, so ClickHouse and Snowflake implementations
slot in without touching the callers. Data crosses the boundary as Arrow (or polars, which is
Arrow underneath), in batches when it could be large.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import polars as pl
import pyarrow as pa
import sqlglot

SOURCE_DIALECT = "duckdb"

#: Positional (`?`) or named (`$name`) parameters.
Params = Sequence[Any] | Mapping[str, Any] | None


class WarehouseSession(ABC):
    """One connection, used for a few statements, optionally inside one transaction."""

    @abstractmethod
    def execute(self, sql: str, params: Params = None) -> None:
        """Run a statement written in the DuckDB dialect."""

    @abstractmethod
    def query_arrow(self, sql: str, params: Params = None) -> pa.Table:
        """Run a query and return its whole (small) result."""

    @abstractmethod
    def query_batches(
        self, sql: str, params: Params = None, batch_rows: int = 100_000
    ) -> Iterator[pa.RecordBatch]:
        """Stream a large result without holding it all in memory."""

    @abstractmethod
    def insert_arrow(self, table: str, data: pa.Table | pa.RecordBatch) -> int:
        """Append rows to an existing table by column name; returns the row count."""

    @abstractmethod
    def begin(self) -> None: ...

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...

    def query_polars(self, sql: str, params: Params = None) -> pl.DataFrame:
        frame = pl.from_arrow(self.query_arrow(sql, params))
        assert isinstance(frame, pl.DataFrame)
        return frame

    def scalar(self, sql: str, params: Params = None) -> Any:
        result = self.query_arrow(sql, params)
        if result.num_rows == 0:
            return None
        return result.column(0)[0].as_py()

    def table_exists(self, schema: str, table: str) -> bool:
        """Whether `schema.table` exists; case-insensitive, as unquoted SQL names are
        (Snowflake's catalog stores them upper case, DuckDB's and ClickHouse's as written)."""
        found = self.scalar(
            "select count(*) from information_schema.tables "
            "where lower(table_schema) = lower(?) and lower(table_name) = lower(?)",
            [schema, table],
        )
        return bool(found)


class Warehouse(ABC):
    """A warehouse reached through short-lived sessions."""

    #: sqlglot dialect name of the engine.
    dialect: str = SOURCE_DIALECT

    @abstractmethod
    def session(self) -> AbstractContextManager[WarehouseSession]:
        """A short-lived connection; closed (and its lock released) on exit."""

    @abstractmethod
    def describe(self) -> str:
        """Where the warehouse is, for humans (never includes credentials)."""

    def transpile(self, sql: str) -> str:
        """Translate Tidemark's DuckDB-dialect SQL for this engine."""
        if self.dialect == SOURCE_DIALECT:
            return sql
        statements = sqlglot.transpile(sql, read=SOURCE_DIALECT, write=self.dialect)
        return ";\n".join(statements)

    def query_arrow(self, sql: str, params: Params = None) -> pa.Table:
        with self.session() as s:
            return s.query_arrow(sql, params)

    def query_polars(self, sql: str, params: Params = None) -> pl.DataFrame:
        with self.session() as s:
            return s.query_polars(sql, params)

    def scalar(self, sql: str, params: Params = None) -> Any:
        with self.session() as s:
            return s.scalar(sql, params)

    def execute(self, sql: str, params: Params = None) -> None:
        with self.session() as s:
            s.execute(sql, params)

    def table_exists(self, schema: str, table: str) -> bool:
        with self.session() as s:
            return s.table_exists(schema, table)
