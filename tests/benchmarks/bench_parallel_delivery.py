"""Parallel delivery on PostgreSQL: one run delivered by 4 worker processes vs by 1.

The same activation (the personalised email of `bench_activation`) to the same kind of SMTP
sink (aiosmtpd in its own process, recording only message ids), with the ops store on
PostgreSQL — a fresh database per run, from `TIDEMARK_BENCH_POSTGRES_URL` or else
`TIDEMARK_TEST_POSTGRES_URL`. With 1 worker the run delivers in its own process, as
`tidemark activation run` does by default; with 4 the engine starts 4 worker processes
(`ActivationEngine.deliver_share`, claims with `FOR UPDATE SKIP LOCKED`, tokens from the
destination's shared bucket in the ops store), waits for them and sweeps. The destination's
rate limit is set out of the way (1,000,000/s), so the figures show what the workers add, not
the provider's pace; the shared bucket is still taken from on every send.

Reported: delivery time (from the end of enqueueing to the run's final status, so worker
start-up is included), messages per second, the whole run's time, and the speed-up. Sanity:
every recipient received exactly once (the sink's ids are distinct and equal the ledger's),
every message `sent` in the ledger and in `tidemark.message_log`.

`python -m tests.benchmarks parallel_delivery [--runs N] [--scale X]`; 1.0 = 20,000 messages.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from activation.delivery_shares import SubprocessShareLauncher, report_line
from connectors.settings import REPO_ROOT
from tests.benchmarks import BenchmarkSanityError, BenchOptions, BenchReport, Figure, load_average
from tests.benchmarks.bench_activation import (
    ServerProcess,
    _serve_smtp,
    build_audience,
    check_delivered,
    timed_engine_run,
    wire,
)

MESSAGES = 20_000
WORKER_COUNTS = (1, 4)
POSTGRES_VARIABLES = ("TIDEMARK_BENCH_POSTGRES_URL", "TIDEMARK_TEST_POSTGRES_URL")


def _server_url() -> str:
    for variable in POSTGRES_VARIABLES:
        url = os.environ.get(variable, "").strip()
        if url:
            return url
    raise BenchmarkSanityError(
        f"parallel delivery needs PostgreSQL: set {' or '.join(POSTGRES_VARIABLES)}"
    )


@contextmanager
def fresh_database() -> Iterator[str]:
    """An empty PostgreSQL database for one run, dropped afterwards; yields its URL."""
    server = make_url(_server_url())
    name = f"tidemark_bench_{uuid.uuid4().hex[:12]}"
    conninfo = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def launcher(home: Path, smtp: tuple[str, int]) -> SubprocessShareLauncher:
    """Workers wired like the bench's own engine (`worker` below), the ops store from the env."""
    argv = [sys.executable, "-m", __name__, "worker", str(home), smtp[0], str(smtp[1])]
    return SubprocessShareLauncher(argv, cwd=str(REPO_ROOT))


def parallel_run(scratch: Path, messages: int, workers: int, index: int) -> dict[str, Any]:
    home = scratch / f"workers-{workers}-{index}"
    with fresh_database() as url, ServerProcess(_serve_smtp) as sink:
        os.environ["TIDEMARK_OPS_STORE_URL"] = url
        try:
            wiring = wire(
                home,
                "smtp",
                "personalised",
                smtp=sink.address,
                share_launcher=launcher(home, sink.address),
            )
            build_audience(wiring.warehouse, messages)
            load_before = load_average()
            report, seconds = timed_engine_run(wiring, workers=workers)
            load_after = load_average()
            received = sink.ask("take_received")
        finally:
            del os.environ["TIDEMARK_OPS_STORE_URL"]
        duplicates = sum(n - 1 for n in Counter(received).values())
        if duplicates:
            raise BenchmarkSanityError(f"{workers} workers: {duplicates} duplicate sends")
        check_delivered(f"{workers} workers", wiring, report, messages, received)
    shutil.rmtree(home)
    assert report.delivery is not None
    return {
        "workers": workers,
        "messages": messages,
        "duplicates": duplicates,
        "seconds": round(seconds, 3),
        "deliver_s": round(report.delivery.seconds, 3),
        "deliver_messages_per_s": round(messages / report.delivery.seconds, 1),
        "load_before": load_before,
        "load_after": load_after,
    }


def run(options: BenchOptions) -> BenchReport:
    messages = options.scaled(MESSAGES, minimum=1_000)
    rows: dict[int, list[dict[str, Any]]] = {n: [] for n in WORKER_COUNTS}
    runs = []
    with tempfile.TemporaryDirectory(prefix="tidemark-bench-parallel-") as tmp:
        for index in range(options.runs):
            print(f"run {index + 1}/{options.runs}: load {load_average()}", flush=True)
            for workers in WORKER_COUNTS:
                rows[workers].append(parallel_run(Path(tmp), messages, workers, index))
            runs.append(
                {
                    **{str(n): rows[n][-1] for n in WORKER_COUNTS},
                    "load_before": rows[WORKER_COUNTS[0]][-1]["load_before"],
                    "load_after": rows[WORKER_COUNTS[-1]][-1]["load_after"],
                }
            )
    one, four = rows[1], rows[4]
    speedups = tuple(a["deliver_s"] / b["deliver_s"] for a, b in zip(one, four, strict=True))
    figures = [
        Figure("1 worker: deliver (s)", "s", tuple(r["deliver_s"] for r in one)),
        Figure("4 workers: deliver (s)", "s", tuple(r["deliver_s"] for r in four)),
        Figure("1 worker: deliver (msg/s)", "msg/s", _rates(one)),
        Figure("4 workers: deliver (msg/s)", "msg/s", _rates(four)),
        Figure("speed-up, 4 workers over 1 (x)", "x", speedups),
        Figure("1 worker: whole run (s)", "s", tuple(r["seconds"] for r in one)),
        Figure("4 workers: whole run (s)", "s", tuple(r["seconds"] for r in four)),
        Figure(
            "duplicate sends (all runs)",
            "messages",
            tuple(float(r["duplicates"]) for n in WORKER_COUNTS for r in rows[n]),
        ),
    ]
    return BenchReport(
        name="parallel_delivery",
        title=f"Parallel delivery on PostgreSQL: {messages:,} emails to an SMTP sink",
        options=options,
        figures=figures,
        runs=runs,
        context={"messages": messages, "worker_counts": list(WORKER_COUNTS)},
    )


def _rates(rows: list[dict[str, Any]]) -> tuple[float, ...]:
    return tuple(r["deliver_messages_per_s"] for r in rows)


def worker(home: str, host: str, port: str, run_id: str, index: str, count: str) -> None:
    """A child process: one share of the run, with the bench's wiring."""
    wiring = wire(Path(home), "smtp", "personalised", smtp=(host, int(port)), define=False)
    report = wiring.engine.deliver_share(run_id, int(index), int(count))
    print(report_line(report), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] != ["worker"]:
        print(__doc__)
        sys.exit(2)
    worker(*sys.argv[2:])
