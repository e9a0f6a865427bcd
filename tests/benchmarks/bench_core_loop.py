"""The core loop at the issue's scale: full build, incremental rebuild, and the SQL floor.

1. **Full build** — `tidemark demo --no-serve` (generate, load with a GE suite per batch, full
   `dbt build`) on a fresh `TIDEMARK_HOME`, as a user runs it: the real CLI in a subprocess,
   timed until its summary (the demo's welcome activation that follows is interrupted).
   Goal at 1,000,000 profiles (~20M events): ≤ 90 s wall, ≤ 4 GiB peak RSS, on 2 cores.
2. **Incremental rebuild** — 1% new events (for existing profiles, new ids, the last hour)
   landed as one Parquet batch through `LandingZone.write_table`, then `tidemark build`
   (load + dbt build, whose event marts are incremental). Goal: ≤ 15 s.
3. **The floor** — `segment_cart_abandoners_24h` computed by one hand-written DuckDB query
   straight from `raw.*` (dedup included, the dbt models' semantics) vs `dbt run --select
   +segment_cart_abandoners_24h`. Both at the same pinned `as_of`; their rows must agree.

Peak memory is measured two ways, because they answer different questions: the *process
tree* (the CLI and any descendant, summed, sampled every 0.1 s with psutil — what the machine
must hold), and the kernel's exact high-water mark of the *largest single process* (from
`wait4` on that child; `RUSAGE_CHILDREN` would instead give the maximum over every child this
process ever reaped, so runs would bleed into each other). The tree figure is the goal's.

`TIDEMARK_DUCKDB_MEMORY_LIMIT`, when set, reaches the CLI's DuckDB and dbt alike, so the same
benchmark measures a memory cap's cost in time; the report records the value used.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import psutil
import pyarrow as pa

from connectors.dbt_project import run_dbt, target_path
from connectors.landing import open_landing_zone
from connectors.loader import conform_batch
from connectors.raw_schemas import EVENTS
from connectors.settings import REPO_ROOT, Settings
from tests.benchmarks import (
    BenchmarkSanityError,
    BenchOptions,
    BenchReport,
    Figure,
    load_average,
    slowest_models,
)

FULL_PROFILES = 1_000_000
NEW_EVENTS_SHARE = 0.01
SEGMENT = "segment_cart_abandoners_24h"
CART_WINDOW_HOURS = 24
SAMPLE_INTERVAL_S = 0.1
GIB = 2**30

FULL_BUILD_GOAL_S = 90.0
FULL_BUILD_GOAL_GIB = 4.0
INCREMENTAL_GOAL_S = 15.0

# --------------------------------------------------------------------------------------------
# Running the CLI and watching its memory
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    """A step of a CLI command, which ends when `end_marker` appears in its output."""

    name: str
    end_marker: str | None  # None: the last phase, until the command exits


SUMMARY_MARKER = "Timings:"  # the summary line, printed once the models are built
DEMO_PHASES = (
    Phase("generate", "Generating"),  # rich prints a finished progress bar when it closes
    Phase("load", "Loading landing files"),
    Phase("dbt build", SUMMARY_MARKER),
    Phase("after the summary", None),
)
INTERRUPT_GRACE_S = 30.0
BUILD_PHASES = (Phase("load", "Loading landing files"), Phase("dbt build", SUMMARY_MARKER))


class TreeMemorySampler(threading.Thread):
    """Samples the summed RSS of a process and its descendants until stopped.

    It also follows the command's output file, so each sample is attributed to the step the
    command is in (a step ends when its marker line appears): a peak and an end time per step.
    """

    def __init__(
        self, pid: int, output: Path, phases: tuple[Phase, ...], interrupt_after: str | None
    ) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.output = output
        self.phases = phases
        self.interrupt_after = interrupt_after
        self.interrupted_at: float | None = None
        self.started = time.perf_counter()
        self.phase_index = 0
        self.phase_ended_s: dict[str, float] = {}
        self.peak_bytes = 0
        self.peak_by_phase: dict[str, int] = {}
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
        self._advance_phase()  # markers printed just before the exit

    def _tree_rss(self) -> int:
        total = 0
        try:
            members = [self.process, *self.process.children(recursive=True)]
        except psutil.Error:
            return 0
        for member in members:
            try:
                total += member.memory_info().rss
            except psutil.Error:
                continue  # exited between listing and reading
        return total

    def _advance_phase(self) -> None:
        try:
            text = self.output.read_text(errors="replace")
        except OSError:
            return
        while self.phase_index < len(self.phases):
            marker = self.phases[self.phase_index].end_marker
            if marker is None or marker not in text:
                break
            self.phase_ended_s[self.phases[self.phase_index].name] = (
                time.perf_counter() - self.started
            )
            self.phase_index += 1

    def run(self) -> None:
        while not self._stop_event.wait(SAMPLE_INTERVAL_S):
            self._advance_phase()
            rss = self._tree_rss()
            phase = self.phases[min(self.phase_index, len(self.phases) - 1)].name
            self.peak_bytes = max(self.peak_bytes, rss)
            self.peak_by_phase[phase] = max(self.peak_by_phase.get(phase, 0), rss)
            self._interrupt_when_done()

    def _interrupt_when_done(self) -> None:
        """Ctrl-C the command once `interrupt_after` has ended; kill it if it lingers."""
        if self.interrupt_after not in self.phase_ended_s:
            return
        try:
            if self.interrupted_at is None:
                self.interrupted_at = time.perf_counter()
                self.process.send_signal(signal.SIGINT)
            elif time.perf_counter() - self.interrupted_at > INTERRUPT_GRACE_S:
                self.process.kill()
        except psutil.Error:
            pass  # already gone

    def peak_until(self, phase: str) -> int:
        """The highest sample up to the end of `phase` (all phases if it is not known)."""
        names = [p.name for p in self.phases]
        last = names.index(phase) + 1 if phase in names else len(names)
        return max((self.peak_by_phase.get(name, 0) for name in names[:last]), default=0)


@dataclass
class CliRun:
    """One `tidemark` command: wall time, memory, the step timings it printed, its output."""

    command: list[str]
    wall_s: float
    summary_s: float
    steps_s: dict[str, float]
    peak_tree_bytes: int
    peak_tree_to_summary_bytes: int
    peak_process_bytes: int
    peak_by_phase_bytes: dict[str, int]
    output: str
    dbt_nodes: list[dict[str, Any]] = field(default_factory=list)


TIMINGS_LINE = re.compile(r"Timings: (?P<steps>.*?) · total (?P<total>[\d.]+)s")
TIMING_PART = re.compile(r"(?P<name>.+?) (?P<seconds>[\d.]+)s$")


def parse_timings(output: str) -> dict[str, float]:
    """The per-step seconds from the CLI's closing `Timings:` line."""
    match = TIMINGS_LINE.search(output)
    if match is None:
        raise BenchmarkSanityError("the command printed no 'Timings:' line")
    steps = {}
    for part in match.group("steps").split(" · "):
        step = TIMING_PART.match(part.strip())
        if step is None:
            raise BenchmarkSanityError(f"unreadable timing {part!r} in {match.group(0)!r}")
        steps[step.group("name")] = float(step.group("seconds"))
    steps["total"] = float(match.group("total"))
    return steps


def child_env(home: Path) -> dict[str, str]:
    """The environment of a CLI run: everything pointed at `home`, output unbuffered."""
    return {
        **os.environ,
        "TIDEMARK_HOME": str(home),
        "TIDEMARK_DUCKDB_PATH": str(home / "warehouse.duckdb"),
        "TIDEMARK_LANDING_URL": str(home / "landing"),
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "160",
    }


def dbt_node_timings(since: datetime, command: str) -> list[dict[str, Any]]:
    """Per-node times of the dbt run that just finished, slowest first.

    dbt writes them to the project's `target/run_results.json`, which other dbt runs on the
    machine may overwrite; a file not written by a `command` run since `since` is ignored.
    """
    path = target_path(Settings()) / "run_results.json"
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    generated = datetime.fromisoformat(results["metadata"]["generated_at"].replace("Z", "+00:00"))
    if generated < since or results.get("args", {}).get("which") != command:
        return []
    nodes = [
        {
            "node": r["unique_id"].split(".")[2],  # <type>.<package>.<name>[.<hash>]
            "type": r["unique_id"].split(".", 1)[0],
            "seconds": round(float(r["execution_time"]), 2),
        }
        for r in results["results"]
    ]
    return sorted(nodes, key=lambda n: -n["seconds"])


def run_cli(
    home: Path, args: list[str], phases: tuple[Phase, ...], *, stop_after: str | None = None
) -> CliRun:
    """Run `tidemark <args>` in a subprocess over `home`, measuring wall time and memory.

    With `stop_after`, the command is interrupted (as Ctrl-C would) once that phase ends.
    """
    command = [sys.executable, "-m", "api.cli", *args]
    output_path = home.parent / f"{home.name}-{args[0]}.log"
    started_at = datetime.now(UTC)
    with output_path.open("w") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=child_env(home), stdout=output, stderr=subprocess.STDOUT
        )
        sampler = TreeMemorySampler(process.pid, output_path, phases, stop_after)
        sampler.start()
        # wait4 (not Popen.wait) also returns this child's own rusage, with its exact RSS peak.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
    text = output_path.read_text(errors="replace")
    if process.returncode != 0 and sampler.interrupted_at is None:
        raise BenchmarkSanityError(
            f"`tidemark {' '.join(args)}` exited with {process.returncode}:\n{text[-3000:]}"
        )
    return CliRun(
        command=["tidemark", *args],
        wall_s=wall,
        summary_s=sampler.phase_ended_s.get("dbt build", wall),
        steps_s=parse_timings(text),
        peak_tree_bytes=sampler.peak_bytes,
        peak_tree_to_summary_bytes=sampler.peak_until("dbt build"),
        peak_process_bytes=usage.ru_maxrss * 1024,  # Linux reports KiB
        peak_by_phase_bytes=dict(sampler.peak_by_phase),
        output=text,
        dbt_nodes=dbt_node_timings(started_at, "build"),
    )


# --------------------------------------------------------------------------------------------
# 1% new events, landed like any source's batch
# --------------------------------------------------------------------------------------------

#: Shares of event types in the new batch, close to the demo data's.
NEW_EVENT_TYPES = {"page_view": 0.56, "product_view": 0.38, "add_to_cart": 0.045, "order": 0.015}


def new_events_batch(profile_ids: pa.Array, rows: int, now: datetime, seed: int) -> pa.Table:
    """`rows` new events of existing profiles in the hour before `now`, with fresh ids."""
    rng = np.random.default_rng(seed)
    token = f"{seed:04d}{now:%H%M%S}"
    types = np.array(list(NEW_EVENT_TYPES))
    event_type = types[rng.choice(len(types), size=rows, p=list(NEW_EVENT_TYPES.values()))]
    no_product = event_type == "page_view"
    not_order = event_type != "order"
    numbers = np.arange(rows).astype(str)
    products = np.char.add("prod_", np.char.zfill(rng.integers(1, 501, rows).astype(str), 4))
    offsets = rng.integers(0, 3_600_000_000, rows).astype("timedelta64[us]")
    table = pa.table(
        {
            "event_id": pa.array(np.char.add(f"ev_bench_{token}_", numbers)),
            "profile_id": profile_ids.take(pa.array(rng.integers(0, len(profile_ids), rows))),
            "event_type": pa.array(event_type),
            "occurred_at": pa.array(np.datetime64(now.replace(tzinfo=None), "us") - offsets),
            "product_id": pa.array(products, mask=no_product),
            "order_id": pa.array(np.char.add(f"ord_bench_{token}_", numbers), mask=not_order),
            "revenue": pa.array(rng.uniform(5, 200, rows).round(2), mask=not_order),
            "quantity": pa.array(np.ones(rows, np.int32), mask=no_product),
            "source": pa.array(np.full(rows, "bench")),
        }
    )
    return conform_batch(EVENTS, table)


def land_new_events(home: Path, share: float, seed: int) -> int:
    """Land `share` of the current event count as one batch of new events; return its rows."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        events = int(con.sql("select count(*) from raw.events").fetchall()[0][0])
        profile_ids = con.sql("select distinct profile_id from raw.profiles").to_arrow_table()
    rows = max(1, round(events * share))
    batch = new_events_batch(profile_ids.column(0).combine_chunks(), rows, datetime.now(UTC), seed)
    settings = Settings(home=home, landing_url=str(home / "landing"))
    open_landing_zone(settings).write_table("events", batch)
    return rows


# --------------------------------------------------------------------------------------------
# The floor: the segment in one hand-written query
# --------------------------------------------------------------------------------------------

SEGMENT_COLUMNS = "profile_id, email, phone, first_name, time_zone, cart_added_at, last_order_at"

#: `segment_cart_abandoners_24h` straight from `raw`, with the dbt models' rules: the latest
#: loaded copy of an event wins (the events mart), an order is dated by its first
#: report and belongs to the profile of its latest one (int_orders_deduplicated), the newest
#: profile version wins (int_profiles_deduplicated), unknown time zones become UTC (profiles).
#: The shortcut a hand-written query can take: only orders and add_to_carts from the window
#: start on can change the answer (a later add_to_cart moves the profile's last one past the
#: window end), so only those event ids are deduplicated, not the whole log.
CART_ABANDONERS_SQL = f"""
with

window_bounds as (
    select
        cast($as_of as timestamp) - to_hours(cast($window_hours as bigint)) as window_start,
        cast($as_of as timestamp) as window_end
),

relevant_event_ids as (
    select distinct events.event_id
    from raw.events as events
    cross join window_bounds
    where
        lower(trim(events.event_type)) = 'order'
        or (
            lower(trim(events.event_type)) = 'add_to_cart'
            and events.occurred_at >= window_bounds.window_start
        )
),

latest_event_copies as (
    select
        events.event_id,
        events.profile_id,
        lower(trim(events.event_type)) as event_type,
        events.occurred_at,
        events.order_id
    from raw.events as events
    semi join relevant_event_ids on events.event_id = relevant_event_ids.event_id
    qualify row_number() over (
        partition by events.event_id
        order by events._loaded_at desc, events._landing_key desc
    ) = 1
),

carts as (
    select profile_id, max(occurred_at) as cart_added_at
    from latest_event_copies
    where event_type = 'add_to_cart'
    group by profile_id
),

order_reports as (
    select coalesce(order_id, event_id) as order_key, event_id, profile_id, occurred_at
    from latest_event_copies
    where event_type = 'order'
),

orders as (
    select profile_id, min(occurred_at) over (partition by order_key) as ordered_at
    from order_reports
    qualify row_number() over (
        partition by order_key order by occurred_at desc, event_id desc
    ) = 1
),

last_orders as (
    select profile_id, max(ordered_at) as last_order_at
    from orders
    group by profile_id
),

abandoners as (
    select carts.profile_id, carts.cart_added_at, last_orders.last_order_at
    from carts
    cross join window_bounds
    left join last_orders on carts.profile_id = last_orders.profile_id
    where
        carts.cart_added_at >= window_bounds.window_start
        and carts.cart_added_at <= window_bounds.window_end
        and (last_orders.last_order_at is null or last_orders.last_order_at < carts.cart_added_at)
),

profile_versions as (
    select
        profile_id,
        nullif(lower(trim(email)), '') as email,
        nullif(trim(phone), '') as phone,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(upper(trim(country)), '') as country,
        nullif(trim(time_zone), '') as time_zone,
        created_at,
        updated_at,
        source,
        _loaded_at as loaded_at,
        _landing_key as landing_key
    from raw.profiles
    where profile_id in (select abandoners.profile_id from abandoners)
),

latest_profiles as (
    select *
    from profile_versions
    qualify row_number() over (
        partition by profile_id
        order by
            updated_at desc, loaded_at desc, landing_key desc,
            email asc nulls last, phone asc nulls last, first_name asc nulls last,
            last_name asc nulls last, country asc nulls last, time_zone asc nulls last,
            created_at asc, source asc
    ) = 1
),

final as (
    select
        latest_profiles.profile_id,
        latest_profiles.email,
        latest_profiles.phone,
        latest_profiles.first_name,
        case
            when coalesce(
                latest_profiles.time_zone in (select tz.name from pg_timezone_names() as tz),
                false
            ) then latest_profiles.time_zone
            else 'UTC'
        end as time_zone,
        abandoners.cart_added_at,
        abandoners.last_order_at
    from abandoners
    inner join latest_profiles on abandoners.profile_id = latest_profiles.profile_id
)

select {SEGMENT_COLUMNS} from final order by profile_id
"""


@dataclass(frozen=True)
class FloorRun:
    hand_query_s: float
    dbt_s: float
    dbt_models_s: float
    members: int
    slowest_models: list[dict[str, Any]]


def measure_floor(home: Path) -> FloorRun:
    """Time the hand-written segment query and dbt's `+segment`, then check they agree."""
    warehouse = home / "warehouse.duckdb"
    as_of = datetime.now(UTC).replace(tzinfo=None, microsecond=0).isoformat(sep=" ")
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        hand_rows = con.execute(
            CART_ABANDONERS_SQL, {"as_of": as_of, "window_hours": CART_WINDOW_HOURS}
        ).fetchall()
    hand_query_s = time.perf_counter() - started

    settings = Settings(home=home, duckdb_path=warehouse, landing_url=str(home / "landing"))
    result = run_dbt(
        settings,
        ["run", "--select", f"+{SEGMENT}"],
        extra_vars={"as_of": as_of, "cart_abandonment_window_hours": CART_WINDOW_HOURS},
    )
    if not result.success:
        raise BenchmarkSanityError(f"dbt run +{SEGMENT} failed: {result.error or result.failed()}")
    # dbt-duckdb may keep its (read-write) database open in this process; a connection with
    # another configuration (read_only) would be refused, one like dbt's shares its instance.
    with duckdb.connect(str(warehouse)) as con:
        dbt_rows = con.sql(
            f"select {SEGMENT_COLUMNS} from analytics.{SEGMENT} order by profile_id"
        ).fetchall()

    hand_ids, dbt_ids = {r[0] for r in hand_rows}, {r[0] for r in dbt_rows}
    if hand_ids != dbt_ids:
        raise BenchmarkSanityError(
            f"the hand-written query and dbt disagree on {SEGMENT}'s members: "
            f"{len(hand_ids - dbt_ids)} only in the query (e.g. {sorted(hand_ids - dbt_ids)[:3]}), "
            f"{len(dbt_ids - hand_ids)} only in dbt (e.g. {sorted(dbt_ids - hand_ids)[:3]})"
        )
    if hand_rows != dbt_rows:
        differing = next(
            pair for pair in zip(hand_rows, dbt_rows, strict=True) if pair[0] != pair[1]
        )
        raise BenchmarkSanityError(f"same members, different rows, e.g. {differing}")
    models = [n for n in result.nodes if n.resource_type == "model"]
    return FloorRun(
        hand_query_s=hand_query_s,
        dbt_s=result.seconds,
        dbt_models_s=sum(n.seconds for n in models),
        members=len(hand_ids),
        slowest_models=slowest_models(result),
    )


# --------------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------------


def _gib(value: int) -> float:
    return value / GIB


def _row_counts(home: Path) -> dict[str, int]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        rows = con.sql(
            "select dataset, sum(row_count)::bigint from raw._loaded_files group by dataset"
        ).fetchall()
    return {name: int(count) for name, count in rows}


def _one_run(index: int, profiles: int, scratch: Path) -> dict[str, Any]:
    home = scratch / f"run{index}"
    load_before = load_average()
    # After its summary the demo runs a welcome activation into a local SMTP sink (minutes at
    # full scale); that is the activation engine's to benchmark, so the run stops there.
    full = run_cli(
        home,
        ["demo", "--no-serve", "--profiles", str(profiles)],
        DEMO_PHASES,
        stop_after="dbt build",
    )
    rows = _row_counts(home)
    load_mid = load_average()
    new_events = land_new_events(home, NEW_EVENTS_SHARE, seed=index)
    incremental = run_cli(home, ["build"], BUILD_PHASES)
    floor = measure_floor(home)
    return {
        "load_before": load_before,
        "load_after_full_build": load_mid,
        "load_after": load_average(),
        "rows": rows,
        "full_build": _cli_details(full),
        "incremental": {"new_events": new_events, **_cli_details(incremental)},
        "floor": {
            "hand_query_s": round(floor.hand_query_s, 3),
            "dbt_s": round(floor.dbt_s, 2),
            "dbt_models_s": round(floor.dbt_models_s, 2),
            "members": floor.members,
            "slowest_models": floor.slowest_models,
        },
    }


def _cli_details(run: CliRun) -> dict[str, Any]:
    return {
        "command": " ".join(run.command),
        "wall_s": round(run.wall_s, 2),
        "summary_s": round(run.summary_s, 2),
        "steps_s": run.steps_s,
        "peak_tree_gib": round(_gib(run.peak_tree_bytes), 3),
        "peak_tree_to_summary_gib": round(_gib(run.peak_tree_to_summary_bytes), 3),
        "peak_process_gib": round(_gib(run.peak_process_bytes), 3),
        "peak_by_step_gib": {k: round(_gib(v), 3) for k, v in run.peak_by_phase_bytes.items()},
        "slowest_dbt_nodes": run.dbt_nodes[:15],
        "dbt_seconds_by_type": _seconds_by_type(run.dbt_nodes),
    }


def _seconds_by_type(nodes: list[dict[str, Any]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for node in nodes:
        totals[node["type"]] = round(totals.get(node["type"], 0.0) + node["seconds"], 2)
    return totals


class _Series:
    """Pulls one value per run out of the run details, by key path."""

    def __init__(self, runs: list[dict[str, Any]]) -> None:
        self.runs = runs

    def __call__(self, *path: str) -> tuple[float, ...]:
        values = []
        for run in self.runs:
            value: Any = run
            for key in path:
                value = value.get(key, 0.0)
            values.append(float(value))
        return tuple(values)


def _figures(runs: list[dict[str, Any]], at_full_scale: bool) -> list[Figure]:
    series = _Series(runs)

    def goal(value: float) -> float | None:
        return value if at_full_scale else None

    full, incr, floor = "full_build", "incremental", "floor"
    hand, dbt = series(floor, "hand_query_s"), series(floor, "dbt_s")
    figures = [
        Figure(
            "full build: generate + load + dbt build, wall",
            "s",
            series(full, "summary_s"),
            goal(FULL_BUILD_GOAL_S),
            note="`tidemark demo` until its summary",
        ),
        *[
            Figure(f"  {step}", "s", series(full, "steps_s", step), note="as the CLI prints it")
            for step in ("generate", "load", "dbt build")
        ],
        Figure(
            "full build: peak RSS, process tree",
            "GiB",
            series(full, "peak_tree_to_summary_gib"),
            goal(FULL_BUILD_GOAL_GIB),
            note="psutil every 0.1 s, until the summary",
        ),
        *[
            Figure(f"  during {step}", "GiB", series(full, "peak_by_step_gib", step))
            for step in ("generate", "load", "dbt build")
        ],
        Figure(
            "  largest process",
            "GiB",
            series(full, "peak_process_gib"),
            note="kernel high-water mark (wait4)",
        ),
        Figure(
            "incremental (+1% events): `tidemark build`, wall",
            "s",
            series(incr, "wall_s"),
            goal(INCREMENTAL_GOAL_S),
        ),
        *[
            Figure(f"  {step}", "s", series(incr, "steps_s", step))
            for step in ("load", "dbt build")
        ],
        Figure("  peak RSS, process tree", "GiB", series(incr, "peak_tree_gib")),
        Figure(f"floor: {SEGMENT}, one DuckDB query", "s", hand, note="from raw.*"),
        Figure(f"floor: dbt run +{SEGMENT}", "s", dbt, note="in-process dbt invocation"),
        Figure("  model execution, summed", "s", series(floor, "dbt_models_s"), note="2 threads"),
        Figure(
            "floor: dbt / hand-written query",
            "x",
            tuple(d / h for d, h in zip(dbt, hand, strict=True)),
        ),
        Figure("segment members (identical rows)", "rows", series(floor, "members")),
    ]
    return figures


def run(options: BenchOptions) -> BenchReport:
    profiles = options.scaled(FULL_PROFILES)
    at_full_scale = profiles == FULL_PROFILES
    # Read before any in-process dbt run exports its own value (DuckDB's default, '80%').
    memory_limit = os.environ.get("TIDEMARK_DUCKDB_MEMORY_LIMIT")
    runs = []
    with tempfile.TemporaryDirectory(prefix="tidemark-bench-") as scratch:
        for index in range(options.runs):
            print(f"run {index + 1}/{options.runs}: {profiles:,} profiles, load {load_average()}")
            runs.append(_one_run(index, profiles, Path(scratch)))
            # Free the run's gigabytes of disk before the next run starts.
            shutil.rmtree(Path(scratch) / f"run{index}")
    return BenchReport(
        name="core_loop",
        title=f"Core loop at {profiles:,} profiles",
        options=options,
        figures=_figures(runs, at_full_scale),
        runs=runs,
        context={
            "profiles": profiles,
            "duckdb_memory_limit": memory_limit or "DuckDB's default (80% of RAM)",
            "goals_apply": at_full_scale,
            "new_events_share": NEW_EVENTS_SHARE,
            "segment": SEGMENT,
        },
    )
