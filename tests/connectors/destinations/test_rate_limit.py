"""The token bucket: never more than `burst + rate * T` tokens in any interval T."""

from __future__ import annotations

import random
import threading
import time

import pytest

from connectors.destinations.rate_limit import TokenBucket


class FakeClock:
    """Time that moves only when the bucket sleeps or the test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.now += seconds


def assert_never_exceeds(grants: list[tuple[float, int]], rate: float, burst: int) -> None:
    """Every run of consecutive grants fits in burst + rate * (its duration)."""
    for first in range(len(grants)):
        total = 0
        for last in range(first, len(grants)):
            total += grants[last][1]
            elapsed = grants[last][0] - grants[first][0]
            assert total <= burst + rate * elapsed + 1e-6, (first, last, total, elapsed)


def test_a_fresh_bucket_grants_its_burst_then_paces_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, burst=5, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(7)]
    assert waits[:5] == [0, 0, 0, 0, 0]
    assert waits[5] == pytest.approx(0.1)
    assert waits[6] == pytest.approx(0.1)
    assert clock.now == pytest.approx(1_000.2)


def test_random_demand_never_exceeds_the_rate_on_a_fake_clock() -> None:
    clock = FakeClock()
    rate, burst = 50.0, 20
    bucket = TokenBucket(rate, burst=burst, clock=clock, sleep=clock.sleep)
    chance = random.Random(7)
    grants = []
    for _ in range(400):
        if chance.random() < 0.2:
            clock.now += chance.uniform(0, 0.5)  # idle: tokens accumulate up to the burst
        n = chance.randint(1, burst)
        bucket.acquire(n)
        grants.append((clock.now, n))
    assert sum(clock.slept) > 1  # demand outran the rate, so the limit was really tested
    assert_never_exceeds(grants, rate, burst)


def test_penalize_grants_nothing_until_the_penalty_ends_then_restarts_empty() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, burst=10, clock=clock, sleep=clock.sleep)
    start = clock.now
    bucket.penalize(2.0)
    waited = bucket.acquire()
    assert clock.now - start == pytest.approx(2.1)  # the penalty, then one token's refill
    assert waited == pytest.approx(2.1)
    bucket.penalize(0)  # nothing to honour
    assert bucket.acquire() == pytest.approx(0.1)


def test_a_shorter_penalty_does_not_shorten_a_longer_one() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, burst=1, clock=clock, sleep=clock.sleep)
    bucket.penalize(5)
    bucket.penalize(1)
    bucket.acquire()
    assert clock.now >= 1_005


def test_set_rate_changes_the_pace() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, burst=1, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.set_rate(4, burst=1)
    assert bucket.rate_per_s == 4
    assert bucket.acquire() == pytest.approx(0.25)


def test_invalid_demands_and_rates_are_refused_clearly() -> None:
    bucket = TokenBucket(10, burst=5)
    with pytest.raises(ValueError, match="cannot take 6 tokens at once"):
        bucket.acquire(6)
    with pytest.raises(ValueError, match="at least one token"):
        bucket.acquire(0)
    with pytest.raises(ValueError, match="rate_per_s must be a positive number"):
        TokenBucket(0)
    with pytest.raises(ValueError, match="burst must be at least 1"):
        TokenBucket(5, burst=0)


def test_the_default_burst_is_one_seconds_worth() -> None:
    assert TokenBucket(250).burst == 250
    assert TokenBucket(0.5).burst == 1


def test_threads_sharing_a_bucket_stay_within_the_rate() -> None:
    rate, burst = 400.0, 5
    bucket = TokenBucket(rate, burst=burst)
    grants: list[tuple[float, int]] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(30):
            bucket.acquire()
            with lock:
                grants.append((time.monotonic(), 1))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    grants.sort()
    assert len(grants) == 120
    # Recording a grant happens just after it: allow a token or two of timing jitter.
    assert_never_exceeds(grants, rate, burst + 2)
    assert grants[-1][0] - grants[0][0] >= (120 - burst - 2) / rate
