"""Create a schema's tables once, safely when several threads of one process try at once.

DuckDB reports a catalog write-write conflict to the loser of two concurrent `CREATE ... IF
NOT EXISTS`; creation is therefore serialised within the process (other processes are kept
out by DuckDB's file lock), and skipped altogether when every table is already there.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from connectors.warehouse.base import WarehouseSession

_creation_lock = threading.Lock()


def ensure_tables(
    session: WarehouseSession, schema: str, tables: Iterable[str], ddl: Sequence[str]
) -> None:
    """Run `ddl` (idempotent statements) unless every table of `tables` exists in `schema`."""
    wanted = set(tables)
    with _creation_lock:
        present = session.query_arrow(
            "select lower(table_name) as table_name from information_schema.tables "
            "where lower(table_schema) = lower(?)",
            [schema],
        ).column("table_name")
        if {name.lower() for name in wanted} <= set(present.to_pylist()):
            return
        for statement in ddl:
            session.execute(statement)
