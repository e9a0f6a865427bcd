"""Experiment models at scale: full and incremental refresh on DuckDB.

The issue's sizes: 10 experiments over 1,000,000 assigned profiles and 20,000,000 events
(behavioural events with orders, plus the sends' provider feedback). The data is generated
in the warehouse with SQL (seeded, no Python rows) straight into the tables the models read:
`raw.events`, `raw.message_events` and the engine's `tidemark.experiments`,
`tidemark.experiment_assignments` and `tidemark.message_log`.

Measured, `--runs` times each:
- full refresh: `dbt run --full-refresh --select +experiment_results` (the experiment
  models and what they read: the event marts, orders, staging);
- incremental refresh: after landing 1% more of everything (new assignments and their sends,
  their feedback and new events), `dbt run --select +experiment_results`. Goal: ≤ 10 s.

A sanity check compares `experiment_variant_stats` after the incremental run with a full
refresh of the same data: incremental results must equal full ones.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from activation.experiments.tables import DDL as EXPERIMENT_DDL
from activation.warehouse_tables import DDL as ENGINE_DDL
from connectors.dbt_project import BuildResult, run_dbt
from connectors.settings import Settings
from connectors.warehouse.raw_tables import bootstrap_ddl
from tests.benchmarks import (
    BenchmarkSanityError,
    BenchOptions,
    BenchReport,
    Figure,
    load_average,
    slowest_models,
)

PROFILES = 1_000_000
EVENTS = 20_000_000
EXPERIMENTS = 10
MESSAGE_EVENTS_PER_SEND = 3  # delivered, and on average about two opens/clicks
INCREMENT = 0.01
GOAL_INCREMENTAL_S = 10.0
SELECT = "+experiment_results"
BASE_TIME = "timestamp '2026-01-01 00:00:00'"


def _generate(con: duckdb.DuckDBPyConnection, *, first: int, profiles: int, events: int) -> None:
    """Add `profiles` assigned profiles (numbered from `first`), their sends and feedback, and
    `events` behavioural events (5% orders), stamped as one new load."""
    last = first + profiles
    sends = f"(select * from tidemark.message_log where profile_id >= 'p{first:09d}' "
    sends += f"and profile_id < 'p{last:09d}')"
    load = f"'bench/{first}'"
    con.execute(f"""
        insert into tidemark.experiment_assignments
        select 'exp_' || (i % {EXPERIMENTS}), 'p' || lpad(cast(i as varchar), 9, '0'),
               case when hash(i, 'arm') % 10 = 0 then 'holdout'
                    when hash(i, 'arm') % 2 = 0 then 'a' else 'b' end,
               hash(i, 'arm') % 10 = 0,
               {BASE_TIME} + to_hours(cast(i // 1000 as bigint)), 'run_' || (i // 100000)
        from range({first}, {last}) as t(i)
    """)
    con.execute(f"""
        insert into tidemark.message_log
        select 'm' || a.profile_id, 'run', 'act_' || a.experiment_id, a.profile_id, 'email',
               a.profile_id || '@example.com', a.variant, 'sent', 1, 'sendgrid', null, null,
               null, null, a.assigned_at, a.assigned_at, a.assigned_at + interval 1 minute,
               a.assigned_at + interval 1 minute
        from tidemark.experiment_assignments as a
        where not a.is_holdout and a.profile_id >= 'p{first:09d}' and a.profile_id < 'p{last:09d}'
    """)
    con.execute(f"""
        insert into raw.message_events
        select 'me_' || m.message_id || '_' || k, m.message_id, m.profile_id, 'email',
               case k when 0 then 'delivered' when 1 then 'open' else 'click' end,
               m.sent_at + to_minutes(cast(1 + k * 7 as bigint)), 'sendgrid', m.address, null,
               null, case when k = 2 then 'https://shop.example.com' end, {load}, now()
        from {sends} as m, range({MESSAGE_EVENTS_PER_SEND}) as r(k)
        where k = 0 or hash(m.message_id, k) % (case when m.variant = 'b' then 3 else 4 end) = 0
    """)
    con.execute(f"""
        insert into raw.events
        select 'e' || lpad(cast(i as varchar), 10, '0'),
               'p' || lpad(cast({first} + hash(i, 'who') % {profiles} as varchar), 9, '0'),
               case when hash(i, 'type') % 20 = 0 then 'order' else 'page_view' end,
               {BASE_TIME} + to_minutes(cast(hash(i, 'when') % 500000 as bigint)),
               null,
               case when hash(i, 'type') % 20 = 0 then 'o' || i end,
               case when hash(i, 'type') % 20 = 0 then 10 + hash(i, 'rev') % 90 end,
               null, 'bench', {load}, now()
        from range({first * (events // max(profiles, 1))},
                   {first * (events // max(profiles, 1)) + events}) as t(i)
    """)


def _experiments(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"""
        insert into tidemark.experiments
        select 'exp_' || e, 'act_exp_' || e, arm, k, arm = 'holdout', arm = 'a',
               case arm when 'holdout' then 0.1 else 0.45 end,
               case arm when 'holdout' then 0.1 else 0.45 end, 0, 0, 'exp_' || e,
               'click', 'conversion,unsubscribe', 7, {BASE_TIME}
        from range({EXPERIMENTS}) as x(e),
             (values ('holdout', 0), ('a', 1), ('b', 2)) as arms(arm, k)
    """)


def _prepare(home: Path, profiles: int, events: int) -> None:
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        for statement in [*bootstrap_ddl(), *ENGINE_DDL, *EXPERIMENT_DDL]:
            con.execute(statement)
        _experiments(con)
        _generate(con, first=0, profiles=profiles, events=events)


def _dbt(settings: Settings, *flags: str) -> BuildResult:
    result = run_dbt(settings, ["run", "--select", SELECT, *flags])
    if not result.success:
        raise BenchmarkSanityError(f"dbt run failed: {result.failed() or result.error}")
    return result


def _stats(home: Path) -> list[tuple[Any, ...]]:
    # Not read-only: dbt-duckdb keeps the file open in this process with the default config.
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        return con.execute(
            "select experiment_id, variant, metric, users, count, round(sum, 6) "
            "from analytics.experiment_variant_stats order by all"
        ).fetchall()


def _one_run(scratch: Path, index: int, profiles: int, events: int) -> dict[str, Any]:
    home = scratch / f"run{index}"
    home.mkdir()
    settings = Settings(home=home, duckdb_path=home / "warehouse.duckdb")
    started = time.perf_counter()
    _prepare(home, profiles, events)
    generated_s = time.perf_counter() - started
    load_before = load_average()
    full = _dbt(settings, "--full-refresh")
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        _generate(
            con,
            first=profiles,
            profiles=max(1, round(profiles * INCREMENT)),
            events=max(1, round(events * INCREMENT)),
        )
    incremental_run = _dbt(settings)
    incremental = _stats(home)
    _dbt(settings, "--full-refresh")
    if _stats(home) != incremental:
        raise BenchmarkSanityError("incremental experiment stats differ from a full refresh")
    return {
        "generate_s": round(generated_s, 2),
        "full_refresh_s": round(full.seconds, 2),
        "incremental_s": round(incremental_run.seconds, 2),
        # What the incremental run spent outside its models: dbt's start-up, parse, queries.
        "incremental_models_s": round(
            sum(n.seconds for n in incremental_run.nodes if n.resource_type == "model"), 2
        ),
        "incremental_slowest_models": slowest_models(incremental_run),
        "load_before": load_before,
        "load_after": load_average(),
    }


def run(options: BenchOptions) -> BenchReport:
    profiles = options.scaled(PROFILES, minimum=1_000)
    events = options.scaled(EVENTS, minimum=10_000)
    runs = []
    with tempfile.TemporaryDirectory(prefix="tidemark-bench-experiments-") as tmp:
        for index in range(options.runs):
            print(f"run {index + 1}/{options.runs}: load {load_average()}", flush=True)
            runs.append(_one_run(Path(tmp), index, profiles, events))
    scale_note = f"{EXPERIMENTS} experiments, {profiles:,} profiles, {events:,} events"
    return BenchReport(
        name="experiments",
        title=f"Experiment models on DuckDB ({scale_note})",
        options=options,
        figures=[
            Figure("full refresh", "s", tuple(r["full_refresh_s"] for r in runs)),
            Figure(
                f"incremental refresh (+{INCREMENT:.0%})",
                "s",
                tuple(r["incremental_s"] for r in runs),
                goal=GOAL_INCREMENTAL_S,
            ),
        ],
        runs=runs,
        context={"profiles": profiles, "events": events, "experiments": EXPERIMENTS},
    )
