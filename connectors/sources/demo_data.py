"""The deterministic demo data set: a realistic shop's profiles, consent, behaviour and email
history, written to the landing zone as Parquet batches like any other source.

`make demo` and the benchmark use it: the loader then copies the batches into `raw.*` and dbt
builds profiles and segments on them. Generation works chunk by chunk (100 000 profiles at a
time by default) so 20 million events are never in memory at once, and every value is a pure
function of (seed, profile index), see `demo_random`, so the same seed, `now` and number of
profiles give identical data whatever the chunk size. The parts:

- `demo_population`: who the profiles are, their consent, later profile versions;
- `demo_behaviour`: shop events along the funnel;
- `demo_campaigns`: past campaigns and their message events;
- `demo_world`: the reference data they draw from (countries, zones, names, domains).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from connectors.landing.base import LandingZone
from connectors.raw_schemas import CONSENT_EVENTS, EVENTS, MESSAGE_EVENTS, PROFILES
from connectors.sources.demo_behaviour import events_table
from connectors.sources.demo_campaigns import message_events_table
from connectors.sources.demo_local_time import utc_microseconds
from connectors.sources.demo_population import (
    DemoContext,
    build_population,
    consent_events,
    profile_updates,
)

DEFAULT_CHUNK_PROFILES = 100_000
MAX_BATCH_ROWS = 1_000_000
"""Largest batch file written: keeps each file's load (and its memory) modest."""
WRITE_AHEAD_BATCHES = 2
"""Batches generated ahead of the one being written (see `_generated_ahead`)."""

T = TypeVar("T")


@dataclass(frozen=True)
class DemoDataSummary:
    """What `write_demo_data` wrote."""

    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def generate_demo_batches(
    n_profiles: int,
    *,
    seed: int = 42,
    now: datetime,
    chunk_profiles: int = DEFAULT_CHUNK_PROFILES,
) -> Iterator[tuple[str, pa.Table]]:
    """Yield (dataset name, batch) pairs, each batch with its dataset's exact landing schema.

    All history lies before `now` (naive UTC or aware). Per chunk of profiles: profiles,
    consent events, events, message events, each split into batches of at most
    `MAX_BATCH_ROWS`; then the later versions of a few profiles, in batches of their own.
    `chunk_profiles` trades memory for per-chunk overhead and does not change the data.
    """
    if isinstance(n_profiles, bool) or not isinstance(n_profiles, int) or n_profiles < 1:
        raise ValueError(f"n_profiles must be a positive integer, got {n_profiles!r}")
    if (
        isinstance(chunk_profiles, bool)
        or not isinstance(chunk_profiles, int)
        or chunk_profiles < 1
    ):
        raise ValueError(f"chunk_profiles must be a positive integer, got {chunk_profiles!r}")
    if not isinstance(now, datetime):
        raise TypeError(f"now must be a datetime, got {type(now).__name__}")
    ctx = DemoContext.create(seed=seed, now_us=utc_microseconds(now), n_profiles=n_profiles)
    updates: list[pa.Table] = []
    for start in range(0, n_profiles, chunk_profiles):
        index = np.arange(start, min(start + chunk_profiles, n_profiles), dtype=np.int64)
        people = build_population(ctx, index)
        yield from _batches(PROFILES.name, people.profiles)
        yield from _batches(CONSENT_EVENTS.name, consent_events(people))
        yield from _batches(EVENTS.name, events_table(ctx, people))
        yield from _batches(MESSAGE_EVENTS.name, message_events_table(ctx, people))
        updates.append(profile_updates(ctx, people))
    yield from _batches(PROFILES.name, pa.concat_tables(updates))


def write_demo_data(
    landing: LandingZone,
    n_profiles: int,
    *,
    seed: int = 42,
    now: datetime,
    on_batch: Callable[[str, int], None] | None = None,
) -> DemoDataSummary:
    """Generate the demo data set and write every batch to `landing`.

    `on_batch(dataset, rows)` is called after each file is durably written (a progress bar).
    """
    started = time.perf_counter()
    rows: dict[str, int] = {}
    files = 0
    batches = generate_demo_batches(n_profiles, seed=seed, now=now)
    for name, table in _generated_ahead(batches, depth=WRITE_AHEAD_BATCHES):
        landing.write_table(name, table)
        files += 1
        rows[name] = rows.get(name, 0) + table.num_rows
        if on_batch is not None:
            on_batch(name, table.num_rows)
    return DemoDataSummary(rows=rows, files=files, seconds=time.perf_counter() - started)


def _generated_ahead(items: Iterator[T], depth: int) -> Iterator[T]:
    """`items`, produced by a background thread up to `depth` items ahead of the consumer.

    Generating a batch (numpy, Arrow) and writing the previous one (Parquet encoding, zstd,
    fsync) both release the GIL, so on two cores this nearly halves `write_demo_data`'s time
    while the queue bounds how many batches are in memory. Errors in the producer surface in
    the consumer; a consumer that stops early (an error writing) stops the producer.
    """
    handoff: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                handoff.put(("item", item))
                if stop.is_set():
                    break
        except BaseException as error:  # handed over to the consumer, which raises it
            handoff.put(("error", error))
        else:
            handoff.put(("done", None))

    producer = threading.Thread(target=produce, name="demo-data-generator", daemon=True)
    producer.start()
    finished = False
    try:
        while True:
            kind, payload = handoff.get()
            if kind == "item":
                yield payload
                continue
            finished = True
            if kind == "error":
                raise payload
            return
    finally:
        stop.set()
        while not finished:  # unblock the producer so it can notice `stop` and end
            finished = handoff.get()[0] != "item"
        producer.join()


def _batches(name: str, table: pa.Table) -> Iterator[tuple[str, pa.Table]]:
    for offset in range(0, table.num_rows, MAX_BATCH_ROWS):
        yield name, table.slice(offset, MAX_BATCH_ROWS)
