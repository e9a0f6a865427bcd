"""Insert a row unless one with the same key exists, safely under concurrent writers.

A read-then-insert races: two callers both see nothing and one fails on the unique key.
`INSERT ... ON CONFLICT DO NOTHING` settles it in the database (PostgreSQL waits for the
other transaction, then does nothing), so idempotent writes need no retry loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session


def insert_if_absent(
    session: Session,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
    *,
    conflict_columns: Sequence[str],
) -> None:
    """Insert `values` into `model`'s table; do nothing if `conflict_columns` already match."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pg_statement = postgresql.insert(model).values(**values)
        session.execute(pg_statement.on_conflict_do_nothing(index_elements=conflict_columns))
    elif dialect == "sqlite":
        lite_statement = sqlite.insert(model).values(**values)
        session.execute(lite_statement.on_conflict_do_nothing(index_elements=conflict_columns))
    else:
        raise NotImplementedError(f"ops store does not support the {dialect!r} dialect")
