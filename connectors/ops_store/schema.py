"""Create the ops store's tables, or upgrade an older store's, and record the schema version.

Every process that opens the ops store (the API, Dagster, the CLI) calls `create_schema` at
start-up, possibly at the same moment, so it runs in one transaction that first takes a
lock (a PostgreSQL advisory lock; SQLite's write lock via `BEGIN IMMEDIATE`): the second
caller waits, then finds the schema current. Both engines have transactional DDL, so an
upgrade that fails changes nothing.

The schema is changed by Alembic revisions shipped in `connectors/ops_store/migrations`. The
revision number is mirrored in the `schema_version` table, which every Tidemark reads first:
a store newer than the code is refused (older Tidemarks did the same, so they never write
into an upgraded store), an older one is upgraded.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, func, insert, inspect, select, update

from connectors.ops_store import (
    anomaly_holds,  # noqa: F401
    bandit_allocations,  # noqa: F401
    delivery_models,  # noqa: F401 - `Base.metadata` is the whole schema once this is imported
    erasure_requests,  # noqa: F401
    source_cursors,  # noqa: F401
)
from connectors.ops_store.column_types import utc_now
from connectors.ops_store.engine import SQLITE_BEGIN_OPTION
from connectors.ops_store.models import SchemaVersion

SCHEMA_VERSION = 7
"""The version this code creates and expects: the number of the newest migration revision."""

# Arbitrary, fixed key for pg_advisory_xact_lock: "tidemark" in ASCII, as a 64-bit integer.
_SCHEMA_LOCK_KEY = int.from_bytes(b"tidemark", "big") & 0x7FFF_FFFF_FFFF_FFFF


class SchemaVersionError(RuntimeError):
    """The database holds a schema version this code does not know how to use."""


def create_schema(engine: Engine) -> int:
    """Create the tables, or upgrade an older store's; return the schema version.

    Refuses a database recorded at a newer version instead of writing into a schema it does
    not understand.
    """
    immediate: Mapping[str, Any] = {SQLITE_BEGIN_OPTION: "IMMEDIATE"}
    with engine.connect() as plain, plain.execution_options(**immediate).begin() as tx:
        connection = tx.connection
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
        recorded = _recorded_version(connection)
        if recorded is not None and recorded > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"the ops store schema is version {recorded}, newer than this Tidemark "
                f"(version {SCHEMA_VERSION}): upgrade Tidemark before using this database"
            )
        if _current_revision(connection) != _head_revision():
            _upgrade(connection)
        _record_version(connection, recorded)
        return SCHEMA_VERSION


def schema_version(engine: Engine) -> int | None:
    """The version recorded in the database, or None when the schema was never created."""
    with engine.connect() as connection:
        return _recorded_version(connection)


def migration_config() -> Config:
    """Alembic's configuration for the ops store's revisions (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(files("connectors.ops_store") / "migrations"))
    return config


@cache
def _head_revision() -> str | None:
    return ScriptDirectory.from_config(migration_config()).get_current_head()


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> None:
    config = migration_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _recorded_version(connection: Connection) -> int | None:
    if not inspect(connection).has_table(SchemaVersion.__tablename__):
        return None
    version: int | None = connection.execute(select(SchemaVersion.version)).scalar_one_or_none()
    return version


def _record_version(connection: Connection, recorded: int | None) -> None:
    if recorded == SCHEMA_VERSION:
        return
    values = {"version": SCHEMA_VERSION, "applied_at": utc_now()}
    if recorded is None:
        connection.execute(insert(SchemaVersion).values(id=1, **values))
    else:
        connection.execute(update(SchemaVersion).where(SchemaVersion.id == 1).values(**values))
