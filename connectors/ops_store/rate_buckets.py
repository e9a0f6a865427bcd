"""A token bucket kept in the ops store, so parallel delivery workers share one provider limit.

Each worker of a run (separate processes, possibly separate hosts) sends through the same
destination; the provider's rate limit is one number for all of them. A bucket per process
would multiply it by the number of workers, and splitting the rate between workers would leave
a finished worker's share unused and not pass a provider's Retry-After on to the others. So the
bucket is one row, and taking tokens is one conditional `UPDATE ... RETURNING` that refills by
the time elapsed on the *database's* clock and takes `n` tokens only if they are there. Every
token ever granted came out of that row, so over any interval of length T all workers together
send at most `burst + rate_per_s * T` messages, as with `TokenBucket` in one process.

`penalize(seconds)` (a provider's Retry-After) moves the row's `refilled_at` into the future
with no tokens: every worker waits until then, and the bucket restarts empty.

On PostgreSQL the row is updated on one autocommit connection per bucket with
`synchronous_commit` off: one round trip per `acquire`, no WAL flush. A database crash may then
forget the last few takes, which at worst lets one extra burst through; it cannot lose or
duplicate a message (the outbox, not the bucket, is the ledger). On SQLite (one host) each take
is a short write transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Float,
    case,
    cast,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from connectors.destinations.rate_limit import check_take, validated_rate
from connectors.ops_store.delivery_models import RateBucket
from connectors.ops_store.engine import write_transaction
from connectors.ops_store.insert_if_absent import insert_if_absent

# Float arithmetic on refills may leave a bucket a hair short of a whole token.
_EPSILON = 1e-9


def _database_now(dialect: str) -> ColumnElement[float]:
    """Seconds since the epoch on the database's clock (the statement's start on PostgreSQL)."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", func.now()), Float)
    return (func.julianday("now") - 2440587.5) * 86400.0


class SharedTokenBucket:
    """A `RateLimiter` whose tokens live in the ops store row `name`, shared by all its users."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        name: str,
        rate_per_s: float,
        burst: int | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sessions = sessions
        self._name = name
        self._sleep = sleep
        self._rate, self._capacity = validated_rate(rate_per_s, burst)
        self._connection: Connection | None = None
        with write_transaction(sessions) as session:
            self._dialect = session.get_bind().dialect.name
            insert_if_absent(
                session,
                RateBucket,
                {"name": name, "tokens": float(self._capacity), "refilled_at": 0.0},
                conflict_columns=["name"],
            )

    @property
    def rate_per_s(self) -> float:
        return self._rate

    @property
    def burst(self) -> int:
        return self._capacity

    def set_rate(self, rate_per_s: float, burst: int | None = None) -> None:
        """Pace this user's takes at another rate; the row's tokens are clamped on the next take."""
        self._rate, self._capacity = validated_rate(rate_per_s, burst)

    def acquire(self, n: int = 1) -> float:
        """Take n tokens from the shared row, waiting until they exist; returns seconds waited."""
        check_take(n, self._capacity)
        waited = 0.0
        while True:
            wait = self._take(n)
            if wait is None:
                return waited
            self._sleep(wait)
            waited += wait

    def penalize(self, seconds: float) -> None:
        """Grant nothing to anyone for `seconds` (a provider's Retry-After), then restart empty."""
        if seconds <= 0:
            return
        now = _database_now(self._dialect)
        until = now + float(seconds)
        self._execute(
            update(RateBucket)
            .where(RateBucket.name == self._name)
            .values(
                tokens=0.0,
                refilled_at=case(
                    (RateBucket.refilled_at > until, RateBucket.refilled_at), else_=until
                ),
            )
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _take(self, n: int) -> float | None:
        """Take n tokens if the row has them (None), else how long to wait before trying again."""
        now = _database_now(self._dialect)
        elapsed = case((now > RateBucket.refilled_at, now - RateBucket.refilled_at), else_=0.0)
        refilled = RateBucket.tokens + elapsed * self._rate
        available = case((refilled > self._capacity, float(self._capacity)), else_=refilled)
        taken = self._execute(
            update(RateBucket)
            .where(
                RateBucket.name == self._name,
                RateBucket.refilled_at <= now,
                available >= n - _EPSILON,
            )
            .values(tokens=available - n, refilled_at=now)
            .returning(RateBucket.tokens)
        )
        if taken:
            return None
        row = self._execute(
            select(RateBucket.tokens, RateBucket.refilled_at, literal(0.0) + now).where(
                RateBucket.name == self._name
            )
        )
        tokens, refilled_at, db_now = (float(value) for value in row[0])
        blocked_for = max(0.0, refilled_at - db_now)
        held = min(float(self._capacity), tokens + max(0.0, db_now - refilled_at) * self._rate)
        return blocked_for + max(n - held, 0.0) / self._rate + 1e-4

    def _execute(self, statement: Any) -> list[Any]:
        if self._dialect == "postgresql":
            return _rows(self._autocommit_connection().execute(statement))
        with write_transaction(self._sessions) as session:
            return _rows(session.connection().execute(statement))

    def _autocommit_connection(self) -> Connection:
        if self._connection is None:
            engine: Engine = self._sessions.kw["bind"]
            connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("SET synchronous_commit TO OFF")
            self._connection = connection
        return self._connection


def _rows(result: CursorResult[Any]) -> list[Any]:
    return list(result.all()) if result.returns_rows else []
