"""A token bucket: how fast a destination may call its provider, shared by all its senders.

Tokens refill continuously at `rate_per_s` up to `burst`; sending n messages takes n tokens.
So over any interval of length T at most `burst + rate_per_s * T` messages go out, however
many threads share the bucket. `acquire` is the one place in the destinations where waiting
is legitimate: it blocks until the tokens exist.

`penalize(seconds)` honours a provider's Retry-After for everyone sharing the bucket: nothing
is granted until the penalty ends, and the bucket restarts empty, so the first requests after
it are paced rather than sent as a burst into a provider that just asked us to slow down.

The clock and the sleep function are injectable, so tests can run the bucket on fake time.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

# Float arithmetic on refills may leave a bucket a hair short of a whole token.
_EPSILON = 1e-9


class RateLimiter(Protocol):
    """What a destination needs from its rate limit; a bucket in this process or a shared one."""

    @property
    def rate_per_s(self) -> float: ...

    @property
    def burst(self) -> int: ...

    def set_rate(self, rate_per_s: float, burst: int | None = None) -> None: ...

    def acquire(self, n: int = 1) -> float: ...

    def penalize(self, seconds: float) -> None: ...


class TokenBucket:
    """Thread-safe token bucket with an injectable clock."""

    def __init__(
        self,
        rate_per_s: float,
        burst: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rate, self._capacity = validated_rate(rate_per_s, burst)
        self._tokens = float(self._capacity)  # a fresh bucket may send its burst at once
        self._updated = clock()
        self._blocked_until = -math.inf

    @property
    def rate_per_s(self) -> float:
        return self._rate

    @property
    def burst(self) -> int:
        """The most tokens one `acquire` may take."""
        return self._capacity

    def set_rate(self, rate_per_s: float, burst: int | None = None) -> None:
        """Change the rate (e.g. to the provider's reported quota); tokens held are kept."""
        with self._lock:
            self._refill(self._clock())
            self._rate, self._capacity = validated_rate(rate_per_s, burst)
            self._tokens = min(self._tokens, float(self._capacity))

    def acquire(self, n: int = 1) -> float:
        """Take n tokens, waiting until they exist; returns the seconds spent waiting."""
        waited = 0.0
        while True:
            with self._lock:
                check_take(n, self._capacity)
                now = self._clock()
                self._refill(now)
                if now >= self._blocked_until and self._tokens >= n - _EPSILON:
                    self._tokens -= n
                    return waited
                if now < self._blocked_until:
                    wait = self._blocked_until - now
                else:
                    wait = (n - self._tokens) / self._rate
            self._sleep(wait)
            waited += wait

    def penalize(self, seconds: float) -> None:
        """Grant nothing for `seconds` (a provider's Retry-After), then restart empty."""
        if seconds <= 0:
            return
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._blocked_until = max(self._blocked_until, now + seconds)
            self._tokens = 0.0

    def _refill(self, now: float) -> None:
        start = max(self._updated, self._blocked_until)
        if now > start:
            self._tokens = min(float(self._capacity), self._tokens + (now - start) * self._rate)
            self._updated = now


def check_take(n: int, capacity: int) -> None:
    """Refuse a take no bucket of this capacity could ever grant (it would wait forever)."""
    if n < 1:
        raise ValueError(f"acquire needs at least one token, got {n}")
    if n > capacity:
        raise ValueError(
            f"cannot take {n} tokens at once from a bucket holding at most {capacity}; "
            "send smaller requests"
        )


def validated_rate(rate_per_s: float, burst: int | None) -> tuple[float, int]:
    if not math.isfinite(rate_per_s) or rate_per_s <= 0:
        raise ValueError(f"rate_per_s must be a positive number, got {rate_per_s}")
    capacity = burst if burst is not None else max(1, math.floor(rate_per_s))
    if capacity < 1:
        raise ValueError(f"burst must be at least 1, got {burst}")
    return float(rate_per_s), capacity
