"""Warehouse reads that keep answering while a dbt build holds the DuckDB file.

DuckDB admits no reader while another process writes. Reads here open the file read-only
(so the processes of `tidemark serve --workers N` read side by side) with a short lock
timeout; when it stays locked, the last good result of the same read is served, marked
`stale` with the time it was computed (`as_of`). Only a read that never succeeded since the
app started has nothing to fall back on: it raises `WarehouseUnavailableError`, which the
API answers with 503 and `Retry-After` (never a 500). A fresh result is also reused for a
few seconds, so twenty dashboards refreshing at once cost one query, not twenty.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel, Field

from connectors.settings import Settings
from connectors.warehouse.base import Warehouse
from connectors.warehouse.duckdb import WarehouseBusyError
from connectors.warehouse.factory import open_warehouse

READ_LOCK_TIMEOUT_S = 0.5
"""How long a read waits for a build's lock before serving the last good result."""

FRESH_FOR_S = 5.0
"""How long a fresh result is reused before the warehouse is asked again."""

RETRY_AFTER_S = 5
"""What a 503 tells clients to wait when there is no last good result yet."""

FIRST_RESULT_WAIT_S = 30.0
"""How long a request waits for another's first computation of the same read."""

MAX_ENTRIES = 512
"""Distinct reads remembered (a query string can make new keys); the oldest go first."""


class WarehouseRead(BaseModel):
    """A result read from the warehouse, with how fresh it is."""

    as_of: datetime = Field(description="When this result was read from the warehouse (UTC).")
    stale: bool = Field(
        default=False,
        description="True while a build holds the warehouse: this is the last good result.",
    )


class WarehouseUnavailableError(RuntimeError):
    """The warehouse is locked and this read has no earlier result to serve."""


Read = TypeVar("Read", bound=WarehouseRead)


@dataclass
class _Entry:
    result: WarehouseRead
    monotonic_at: float


@dataclass
class WarehouseReads:
    """A read-side warehouse handle (short lock timeout) and the last good result per read."""

    warehouse: Warehouse
    fresh_for_s: float = FRESH_FOR_S
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    """The reads' `now` (aware UTC): windows such as a segment's size history end there."""
    _entries: dict[str, _Entry] = field(default_factory=dict)
    _computing: dict[str, threading.Event] = field(default_factory=dict)  # set when done
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings: Settings) -> WarehouseReads:
        quick = settings.model_copy(update={"duckdb_lock_timeout_s": READ_LOCK_TIMEOUT_S})
        return cls(warehouse=open_warehouse(quick, read_only=True))

    def read(self, key: str, compute: Callable[[Warehouse, datetime], Read]) -> Read:
        """`compute(warehouse, now)` for `key`, or its last good result while the file is held.

        `compute` builds the model with `as_of=now`. Keys name the read and its arguments
        (e.g. `segment:high_value`), so every distinct question keeps its own fallback.
        """
        with self._lock:
            entry = self._entries.get(key)
            fresh = entry is not None and time.monotonic() - entry.monotonic_at < self.fresh_for_s
            in_flight = self._computing.get(key)
            if entry is not None and (fresh or in_flight is not None):
                # Fresh, or being recomputed by another request right now: one query per
                # read at a time, however many clients ask.
                return entry.result  # type: ignore[return-value]
            if in_flight is None:
                self._computing[key] = threading.Event()
        if in_flight is not None:
            # The first ever computation of this read is running: wait for it rather than
            # run the same query alongside (twenty clients would start twenty copies).
            in_flight.wait(timeout=FIRST_RESULT_WAIT_S)
            with self._lock:
                first = self._entries.get(key)
            if first is not None:
                return first.result  # type: ignore[return-value]
            return self._compute(key, compute, None)  # it failed: try on our own
        try:
            return self._compute(key, compute, entry)
        finally:
            with self._lock:
                self._computing.pop(key).set()

    def _compute(
        self, key: str, compute: Callable[[Warehouse, datetime], Read], entry: _Entry | None
    ) -> Read:
        try:
            result = compute(self.warehouse, self.clock())
        except WarehouseBusyError as error:
            if entry is None:
                raise WarehouseUnavailableError(
                    "the warehouse is busy (a dbt build or loader run holds it) and there is "
                    "no earlier result to show yet; try again in a few seconds"
                ) from error
            return entry.result.model_copy(update={"stale": True})  # type: ignore[return-value]
        with self._lock:
            self._entries[key] = _Entry(result, time.monotonic())
            if len(self._entries) > MAX_ENTRIES:
                oldest = min(self._entries, key=lambda k: self._entries[k].monotonic_at)
                del self._entries[oldest]
        return result
