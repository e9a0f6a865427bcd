"""The embedded default warehouse: one DuckDB file.

DuckDB lets one process write a file at a time and no other process read it meanwhile.
So every connection here is short-lived, and opening one retries with backoff while another
process (a dbt build, a loader run) holds the lock, up to a bounded wait, after which the
caller gets `WarehouseBusyError` — a clear, catchable answer instead of a stack trace.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from connectors.warehouse.base import Params, Warehouse, WarehouseSession

log = logging.getLogger(__name__)

_LOCK_MARKERS = ("could not set lock", "conflicting lock", "resource temporarily unavailable")


class WarehouseBusyError(RuntimeError):
    """Another process held the warehouse for longer than we were willing to wait."""


def _is_lock_error(error: duckdb.Error) -> bool:
    text = str(error).lower()
    return any(marker in text for marker in _LOCK_MARKERS)


_NAMED_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def _bind(sql: str, params: Params) -> Params:
    """Named parameters the statement uses (DuckDB refuses unused ones), positional as given.

    Callers can then share one parameter mapping across the statements of a step.
    """
    if not isinstance(params, Mapping):
        return params
    used = set(_NAMED_PARAMETER.findall(sql))
    missing = used - set(params)
    if missing:
        raise ValueError(f"statement needs parameters {sorted(missing)} that were not given")
    return {name: value for name, value in params.items() if name in used}


class DuckDBSession(WarehouseSession):
    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Params = None) -> None:
        self.connection.execute(sql, _bind(sql, params))

    def query_arrow(self, sql: str, params: Params = None) -> pa.Table:
        relation = self.connection.sql(sql, params=_bind(sql, params))
        if relation is None:
            raise ValueError("query_arrow needs a statement that returns rows")
        return relation.to_arrow_table()

    def query_batches(
        self, sql: str, params: Params = None, batch_rows: int = 100_000
    ) -> Iterator[pa.RecordBatch]:
        relation = self.connection.sql(sql, params=_bind(sql, params))
        if relation is None:
            raise ValueError("query_batches needs a statement that returns rows")
        yield from relation.to_arrow_reader(batch_rows)

    def insert_arrow(self, table: str, data: pa.Table | pa.RecordBatch) -> int:
        frame = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
        columns = ", ".join(f'"{name}"' for name in frame.column_names)
        self.connection.register("_tidemark_insert", frame)
        try:
            self.connection.execute(
                f"insert into {table} ({columns}) select {columns} from _tidemark_insert"
            )
        finally:
            self.connection.unregister("_tidemark_insert")
        return int(frame.num_rows)

    def begin(self) -> None:
        self.connection.begin()

    def commit(self) -> None:
        self.connection.commit()

    def rollback(self) -> None:
        """Roll back the open transaction; a no-op when a failed commit already ended it."""
        try:
            self.connection.rollback()
        except duckdb.TransactionException as error:
            if "no transaction is active" not in str(error):
                raise


class DuckDBWarehouse(Warehouse):
    """A DuckDB file reached through short-lived connections with bounded lock retry."""

    dialect = "duckdb"

    def __init__(
        self,
        path: Path | str,
        *,
        lock_timeout_s: float = 60.0,
        memory_limit: str | None = None,
        read_only: bool = False,
    ) -> None:
        self.path = Path(path)
        self.lock_timeout_s = lock_timeout_s
        self.memory_limit = memory_limit
        self.read_only = read_only

    def describe(self) -> str:
        return f"duckdb:{self.path}"

    def connect(self) -> duckdb.DuckDBPyConnection:
        """Open the file, waiting (with jittered backoff) while another process holds it.

        The memory limit is SET on the open connection rather than passed as connect-time
        config: DuckDB refuses a second connection to a file already open in this process
        with another config, and dbt-duckdb (run in-process by the CLI and Dagster) keeps
        the file open with the default config, setting its limit the same way.
        """
        if not self.read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            self._create_empty()
        deadline = time.monotonic() + self.lock_timeout_s
        delay = 0.05
        while True:
            try:
                return self._with_memory_limit(
                    duckdb.connect(str(self.path), read_only=self.read_only)
                )
            except duckdb.IOException as error:
                if not _is_lock_error(error) or time.monotonic() >= deadline:
                    if _is_lock_error(error):
                        raise WarehouseBusyError(
                            f"the warehouse {self.path} stayed locked by another process for "
                            f"{self.lock_timeout_s:.0f}s (a dbt build or loader run?)"
                        ) from error
                    raise
                log.debug("warehouse locked, retrying in %.2fs", delay)
                time.sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter, not crypto
                delay = min(delay * 2, 1.0)

    def _create_empty(self) -> None:
        """Create the (empty) file a read-only connection needs, as a first build would.

        A reader of a home with nothing built yet sees an empty warehouse, not an error.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            duckdb.connect(str(self.path)).close()
        except duckdb.IOException as error:
            if not _is_lock_error(error):  # a writer created it meanwhile: it exists now
                raise

    def _with_memory_limit(
        self, connection: duckdb.DuckDBPyConnection
    ) -> duckdb.DuckDBPyConnection:
        if not self.memory_limit:
            return connection
        try:
            connection.execute("SET memory_limit = ?", [self.memory_limit])
        except duckdb.Error as error:
            connection.close()
            raise ValueError(
                f"invalid DuckDB memory limit {self.memory_limit!r} "
                f"(TIDEMARK_DUCKDB_MEMORY_LIMIT; e.g. '4GB' or '50%'): {error}"
            ) from error
        return connection

    @contextmanager
    def session(self) -> Iterator[DuckDBSession]:
        connection = self.connect()
        try:
            yield DuckDBSession(connection)
        finally:
            connection.close()
