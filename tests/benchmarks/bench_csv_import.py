"""CSV import of 1,000,000 profiles: `tidemark import profiles FILE.csv`, as a user runs it.

Goal at full scale: ≤ 15 s and ≤ 500 MiB peak RSS on 2 cores. The file is generated once per
benchmark (deterministic): unique ids, emails and phone numbers (two rows in three), five time
zones, ISO timestamps with offsets, email consent on every other row, 1% bad emails. Each run
imports it into a fresh home in a subprocess; the wall time includes the process start (GE's
import alone is several seconds), the "import" figure is the import's own time as it reports
it. Peak RSS is the child's maximum resident set (getrusage).
"""

from __future__ import annotations

import csv
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from connectors.settings import REPO_ROOT
from tests.benchmarks import BenchmarkSanityError, BenchOptions, BenchReport, Figure, load_average

ROWS = 1_000_000
GOAL_WALL_S = 15.0
GOAL_RSS_MIB = 500.0
HEADER = [
    "profile_id", "email", "phone", "first_name", "last_name", "country", "time_zone",
    "created_at", "updated_at", "email_consent", "sms_consent",
]  # fmt: skip
ZONES = ["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC", "Europe/Berlin"]
AREA_CODES = ["212", "415", "646", "312", "617", "206", "303", "512"]


def write_file(path: Path, rows: int) -> int:
    """The benchmark's file; returns how many rows are meant to be refused."""
    bad = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            email = f"user{i}@example{i % 97}.com"
            if i % 100 == 99:
                email, bad = f"user{i}@@broken", bad + 1
            phone = f"+1{AREA_CODES[i % 8]}{2_000_000 + i % 7_999_999:07d}" if i % 3 else ""
            writer.writerow(
                [
                    f"p{i}",
                    email,
                    phone,
                    "Ann",
                    "Lee",
                    "US",
                    ZONES[i % 5],
                    "2024-01-01T00:00:00Z",
                    f"2024-05-{1 + i % 28:02d}T10:00:00+02:00",
                    "granted" if i % 2 else "",
                    "",
                ]
            )
    return bad


def import_once(source: Path, home: Path) -> dict[str, Any]:
    env = {**os.environ, "TIDEMARK_HOME": str(home), "COLUMNS": "200"}
    load_before = load_average()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "import", "profiles", str(source)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 2):
        raise BenchmarkSanityError(f"import failed ({done.returncode}): {done.stdout}{done.stderr}")
    found = re.search(
        r"Read ([\d,]+) rows .* in ([\d.]+)s: ([\d,]+) landed, ([\d,]+) quarantined", done.stdout
    )
    if found is None:
        raise BenchmarkSanityError(f"no summary in the output: {done.stdout}")
    read, seconds, landed, refused = (float(g.replace(",", "")) for g in found.groups())
    return {
        "wall_s": wall,
        "import_s": seconds,
        "rows_read": int(read),
        "rows_landed": int(landed),
        "rows_quarantined": int(refused),
        "load_before": load_before,
    }


def run(options: BenchOptions) -> BenchReport:
    rows = options.scaled(ROWS, minimum=1_000)
    results = []
    with tempfile.TemporaryDirectory(prefix="tidemark-bench-csv-") as tmp:
        scratch = Path(tmp)
        source = scratch / "profiles.csv"
        bad = write_file(source, rows)
        for index in range(options.runs):
            print(f"run {index + 1}/{options.runs}: load {load_average()}", flush=True)
            result = import_once(source, scratch / f"home-{index}")
            if (result["rows_read"], result["rows_quarantined"]) != (rows, bad):
                raise BenchmarkSanityError(f"expected {rows} rows, {bad} refused: {result}")
            results.append(result)
            (scratch / "profiles.quarantine.csv").unlink(missing_ok=True)
    # Children's peak RSS, in KiB on Linux: the largest of the runs.
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    at_full_scale = options.scale == 1.0
    return BenchReport(
        name="csv_import",
        title=f"CSV import: {rows:,} profile rows through `tidemark import profiles`",
        options=options,
        figures=[
            Figure(
                "wall (process start to exit)",
                "s",
                tuple(r["wall_s"] for r in results),
                goal=GOAL_WALL_S if at_full_scale else None,
            ),
            Figure("  import itself", "s", tuple(r["import_s"] for r in results)),
            Figure(
                "peak RSS (largest run)",
                "MiB",
                (peak_mib,),
                goal=GOAL_RSS_MIB if at_full_scale else None,
            ),
        ],
        runs=results,
        context={"rows": rows, "bad_rows": bad, "goals_apply": at_full_scale},
    )
