"""Each run's messages by ledger state, counted at most once a second per run.

A run's progress is a grouped count of its outbox rows. Dashboards poll it, and under load
the same live run is asked about by every request to the overview, runs and activations
(the demo's run keeps 40,000 rows live while quiet hours defer its messages): counting them
each time was the largest cost of those requests. Counts are kept for `fresh_for_s` per run
and then counted again, so a delivering run's progress is at most that old. They are also
counted again whenever the run's own row changes (its `updated_at`, set with every status
change: planned, completed, cancelled…), so counts are never older than the status beside them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from connectors.ops_store.outbox import runs_state_counts

FRESH_FOR_S = 1.0
"""How long a run's counts are reused before the outbox is counted again."""

MAX_RUNS = 1_024
"""Runs whose counts are kept; the least recently counted go first."""


@dataclass
class LedgerCounts:
    """Recently counted ledgers, shared by the app's request threads."""

    fresh_for_s: float = FRESH_FOR_S
    clock: Callable[[], float] = time.monotonic
    _counted: dict[str, _Counted] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def of(
        self, session: Session, runs: Mapping[str, datetime | None]
    ) -> dict[str, dict[str, int]]:
        """Counts for `runs` (run id → the run's `updated_at`): those counted less than
        `fresh_for_s` ago at the same `updated_at` as kept, the others counted now in one query.
        """
        now = self.clock()
        with self._lock:
            kept = {
                run_id: entry.counts
                for run_id, updated_at in runs.items()
                if (entry := self._counted.get(run_id)) is not None
                and entry.updated_at == updated_at
                and now - entry.counted_at < self.fresh_for_s
            }
        counted = runs_state_counts(session, [run_id for run_id in runs if run_id not in kept])
        if counted:
            with self._lock:
                for run_id, counts in counted.items():
                    self._counted.pop(run_id, None)  # re-inserted last: newest at the end
                    self._counted[run_id] = _Counted(now, runs[run_id], counts)
                while len(self._counted) > MAX_RUNS:
                    del self._counted[next(iter(self._counted))]
        # Callers may change what they get (they fold it into totals); hand out copies.
        return {run_id: dict((kept | counted)[run_id]) for run_id in runs}


@dataclass(frozen=True)
class _Counted:
    counted_at: float
    updated_at: datetime | None
    counts: dict[str, int]
