"""Connect to the ops store: a SQLite file by default, PostgreSQL when one machine is not enough.

The ops store holds state that many processes change at once (the API, Dagster sensors and
delivery workers), so each engine is set up for concurrent writers from the start:

- SQLite runs in WAL mode (readers never block the writer), waits on a busy lock instead of
  failing at once, enforces foreign keys, and lets us choose how a transaction begins. The
  stock `sqlite3` driver only emits `BEGIN` lazily before the first write, which silently
  breaks `BEGIN IMMEDIATE`; we take over `BEGIN` ourselves (SQLAlchemy's documented recipe).
- PostgreSQL always goes through psycopg 3 and checks pooled connections before use, so a
  restarted server costs one reconnect, not a failed request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

SQLITE_BEGIN_OPTION = "tidemark_sqlite_begin"
"""Connection execution option naming how SQLite begins a transaction ("IMMEDIATE", ...)."""

_SQLITE_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})
_POSTGRES_DRIVER = "postgresql+psycopg"
_BARE_POSTGRES_SCHEMES = frozenset({"postgres", "postgresql"})


def ops_store_url(dsn: str) -> URL:
    """Parse `dsn`, pinning bare PostgreSQL schemes to the psycopg 3 driver.

    Errors name the scheme at most: a DSN may carry a password.
    """
    try:
        url = make_url(dsn)
    except ArgumentError:
        raise ValueError("ops store DSN is not a valid database URL") from None
    if url.drivername in _BARE_POSTGRES_SCHEMES:
        return url.set(drivername=_POSTGRES_DRIVER)
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ValueError(
            f"ops store supports sqlite:// and postgresql:// URLs, not {url.drivername!r}"
        )
    return url


def create_ops_engine(dsn: str, *, sqlite_busy_timeout_s: float = 10.0) -> Engine:
    """An engine for the ops store at `dsn` (`sqlite:///path` or `postgresql://...`)."""
    url = ops_store_url(dsn)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout_ms=int(sqlite_busy_timeout_s * 1000))
    return create_engine(
        url,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 10, "application_name": "tidemark"},
    )


def ops_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions for the ops store.

    Objects stay readable after commit (`expire_on_commit=False`): callers commit and then
    return what they wrote, without a second round trip to the database.
    """
    return sessionmaker(bind=engine, expire_on_commit=False)


def start_write_transaction(session: Session) -> None:
    """Begin `session`'s transaction holding the right to write, before reading anything.

    On SQLite this is `BEGIN IMMEDIATE`: the single-writer lock is taken up front, so a
    read-then-update (a claim) cannot interleave with another writer; concurrent callers wait
    up to the busy timeout. That only works on a fresh transaction, so an open one is refused.
    On PostgreSQL nothing is needed here: row locks (`FOR UPDATE`) do the job.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        options = session.connection().get_execution_options()
        if options.get(SQLITE_BEGIN_OPTION) == "IMMEDIATE":
            return  # already holding the write lock (see `write_transaction`)
        raise RuntimeError(
            "on SQLite this operation must begin its own transaction (BEGIN IMMEDIATE); "
            "commit or roll back the session first"
        )
    immediate: Mapping[str, Any] = {SQLITE_BEGIN_OPTION: "IMMEDIATE"}
    session.connection(execution_options=immediate)


@contextmanager
def write_transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session in a transaction that may write, committed on success, rolled back on error.

    On SQLite the write lock is taken up front (`BEGIN IMMEDIATE`), so functions that need
    it (claims, locks) can run inside; on PostgreSQL this is an ordinary transaction.
    """
    with sessions() as session:
        start_write_transaction(session)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _sqlite_engine(url: URL, *, busy_timeout_ms: int) -> Engine:
    database = url.database
    in_memory = database in (None, "", ":memory:")
    if not in_memory and database is not None and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if in_memory:
        # One shared connection, or every pooled connection would see its own empty database.
        options["poolclass"] = StaticPool
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see `_begin`
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms:d}")
            cursor.execute("PRAGMA foreign_keys=ON")
            # WAL is a property of the file: only the first connection to a new file switches.
            if not in_memory and cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        if mode not in _SQLITE_BEGIN_MODES:
            raise ValueError(f"unknown SQLite begin mode {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine
