"""`dbt build` of the segments on chDB (ClickHouse in process) against DuckDB, same data.

Demo data for 1,000,000 profiles at scale 1.0 (`--scale` shrinks it) is landed once, then per
run and engine a fresh warehouse is loaded by our loader (not timed) and `dbt build
--select +path:models/segments` is timed as `tidemark build` runs it (in process, through
`run_dbt`, by tests/engines' `build_on_engine`: dbt-clickhouse reaches chDB through the test
bridge). The ratio is chDB's time over DuckDB's. Sanity: both engines' segments hold the
same members.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.landing import LocalLandingZone
from connectors.loader import load_landing_files
from connectors.settings import Settings
from connectors.sources.demo_data import write_demo_data
from connectors.warehouse.factory import open_warehouse
from tests.benchmarks import BenchmarkSanityError, BenchOptions, BenchReport, Figure, load_average
from tests.engines.engine_build import build_on_engine
from tests.engines.test_dbt_on_engines import SEGMENTS, SELECT

FULL_PROFILES = 1_000_000
NOW = datetime(2026, 11, 27, 12, 0)
SEED = 7


def _memberships(settings: Settings) -> dict[str, int]:
    warehouse = open_warehouse(settings)
    return {
        segment: int(warehouse.scalar(f"select count(*) from analytics.{segment}"))
        for segment in SEGMENTS
    }


def _build_once(engine: str, landing: LocalLandingZone, scratch: Path) -> tuple[float, Any]:
    """Load into a fresh warehouse of `engine`, then time one dbt build; (seconds, sizes)."""
    home = Path(tempfile.mkdtemp(prefix=f"{engine}-", dir=scratch))
    settings = Settings(home=home, warehouse=engine)
    loaded = load_landing_files(landing, open_warehouse(settings), now=NOW)
    if loaded.with_status("quarantined"):
        raise BenchmarkSanityError(f"{engine}: demo files were quarantined")
    started = time.perf_counter()
    build_on_engine(settings, home, [SELECT], NOW)
    seconds = time.perf_counter() - started
    sizes = _memberships(settings)
    shutil.rmtree(home, ignore_errors=True)
    return seconds, sizes


def run(options: BenchOptions) -> BenchReport:
    profiles = options.scaled(FULL_PROFILES, minimum=200)
    report = BenchReport(
        name="engines",
        title=f"dbt build of the segments, chDB vs DuckDB, {profiles:,} profiles",
        options=options,
        context={"profiles": profiles, "seed": SEED},
    )
    timings: dict[str, list[float]] = {"duckdb": [], "clickhouse": []}
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as folder:
        scratch = Path(folder)
        landing = LocalLandingZone(scratch / "landing")
        write_demo_data(landing, profiles, seed=SEED, now=NOW)
        for _ in range(options.runs):
            run_record: dict[str, Any] = {"load_before": load_average()}
            sizes = {}
            for engine in timings:
                seconds, sizes[engine] = _build_once(engine, landing, scratch)
                timings[engine].append(round(seconds, 2))
                run_record[f"{engine}_s"] = round(seconds, 2)
            if sizes["duckdb"] != sizes["clickhouse"]:
                raise BenchmarkSanityError(
                    f"segment sizes differ: duckdb {sizes['duckdb']}, chDB {sizes['clickhouse']}"
                )
            run_record["segment_sizes"] = sizes["duckdb"]
            run_record["load_after"] = load_average()
            report.runs.append(run_record)
    ratios = tuple(
        round(c / d, 2) for c, d in zip(timings["clickhouse"], timings["duckdb"], strict=True)
    )
    report.figures += [
        Figure("dbt build on DuckDB", "s", tuple(timings["duckdb"])),
        Figure("dbt build on chDB", "s", tuple(timings["clickhouse"])),
        Figure("chDB / DuckDB", "x", ratios, note="per run, then the median"),
    ]
    return report
