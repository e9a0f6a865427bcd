"""Create the ops store's tables, idempotently, and record which schema version they are.

Every process that opens the ops store (the API, Dagster, the CLI) may call `create_schema`
at start-up, possibly at the same moment, so it runs in one transaction that first takes a
lock (a PostgreSQL advisory lock; SQLite's write lock via `BEGIN IMMEDIATE`): the second
caller waits, then finds the tables there. Both engines have transactional DDL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from connectors.ops_store import (
    delivery_models,  # noqa: F401 - registers the delivery tables
    erasure_requests,  # noqa: F401 - registers erasure_requests
)
from connectors.ops_store.column_types import utc_now
from connectors.ops_store.engine import SQLITE_BEGIN_OPTION
from connectors.ops_store.models import Base, SchemaVersion

SCHEMA_VERSION = 1
"""The version this code creates and expects; a migration step bumps it."""

# Arbitrary, fixed key for pg_advisory_xact_lock: "tidemark" in ASCII, as a 64-bit integer.
_SCHEMA_LOCK_KEY = int.from_bytes(b"tidemark", "big") & 0x7FFF_FFFF_FFFF_FFFF


class SchemaVersionError(RuntimeError):
    """The database holds a schema version this code does not know how to use."""


def create_schema(engine: Engine) -> int:
    """Create any missing table and the version row; return the schema version.

    Refuses a database recorded at another version instead of writing into a schema it does
    not understand.
    """
    immediate: Mapping[str, Any] = {SQLITE_BEGIN_OPTION: "IMMEDIATE"}
    with engine.connect() as plain, plain.execution_options(**immediate).begin() as tx:
        connection = tx.connection
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
        Base.metadata.create_all(connection)
        recorded = _recorded_version(connection)
        if recorded is None:
            connection.execute(
                insert(SchemaVersion).values(id=1, version=SCHEMA_VERSION, applied_at=utc_now())
            )
            return SCHEMA_VERSION
        _check_version(recorded)
        return recorded


def schema_version(engine: Engine) -> int | None:
    """The version recorded in the database, or None when the schema was never created."""
    with engine.connect() as connection:
        if not engine.dialect.has_table(connection, SchemaVersion.__tablename__):
            return None
        return _recorded_version(connection)


def _recorded_version(connection: Connection) -> int | None:
    version: int | None = connection.execute(select(SchemaVersion.version)).scalar_one_or_none()
    return version


def _check_version(recorded: int) -> None:
    if recorded > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"the ops store schema is version {recorded}, newer than this Tidemark "
            f"(version {SCHEMA_VERSION}): upgrade Tidemark before using this database"
        )
    if recorded < SCHEMA_VERSION:
        raise SchemaVersionError(
            f"the ops store schema is version {recorded}, older than this Tidemark "
            f"(version {SCHEMA_VERSION}): run the ops store migration first"
        )
