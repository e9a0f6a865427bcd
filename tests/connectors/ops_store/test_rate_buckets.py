"""The shared token bucket: several users of one row never exceed its rate together."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.orm import Session, sessionmaker

from connectors.ops_store.rate_buckets import SharedTokenBucket


def test_users_of_one_row_share_its_rate(ops_sessions: sessionmaker[Session]) -> None:
    rate, burst, users, seconds = 200.0, 10, 4, 1.5
    granted: list[float] = []
    lock = threading.Lock()

    def take_for_a_while() -> None:
        bucket = SharedTokenBucket(ops_sessions, "destination:sink", rate, burst)
        try:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                bucket.acquire(2)
                with lock:
                    granted.extend([time.monotonic()] * 2)
        finally:
            bucket.close()

    threads = [threading.Thread(target=take_for_a_while) for _ in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    span = max(granted) - min(granted)
    assert len(granted) <= burst + rate * span + 2, "the users together took more than the rate"
    # A loose floor: it proves the users are not starved, while leaving room for a loaded CI
    # machine (under load 10+ SQLite round trips alone slowed them to ~70% of the rate).
    # How close to the rate they run is the parallel delivery benchmark's question.
    assert len(granted) >= 0.3 * rate * span, "the users together were paced far below the rate"


def test_a_penalty_holds_back_every_user(ops_sessions: sessionmaker[Session]) -> None:
    first = SharedTokenBucket(ops_sessions, "destination:sink", 1000.0, 5)
    second = SharedTokenBucket(ops_sessions, "destination:sink", 1000.0, 5)
    try:
        first.penalize(0.4)
        started = time.monotonic()
        second.acquire(1)
        assert time.monotonic() - started >= 0.35
    finally:
        first.close()
        second.close()


def test_other_rows_are_other_buckets(ops_sessions: sessionmaker[Session]) -> None:
    one = SharedTokenBucket(ops_sessions, "destination:one", 1.0, 1)
    other = SharedTokenBucket(ops_sessions, "destination:other", 1.0, 1)
    try:
        assert one.acquire(1) == 0.0
        assert other.acquire(1) == 0.0, "a take from one row emptied another"
    finally:
        one.close()
        other.close()


def test_more_than_the_burst_at_once_is_refused(ops_sessions: sessionmaker[Session]) -> None:
    bucket = SharedTokenBucket(ops_sessions, "destination:sink", 10.0, 3)
    with pytest.raises(ValueError, match="at most 3"):
        bucket.acquire(4)
