"""Server CPU per request of each read endpoint: the fixed cost that caps API throughput.

`bench_api` shows the read endpoints' latency under 20 clients is the server's queue, so
throughput is what matters, and it is bounded by the CPU one request costs the server. This
measures that directly: `tidemark serve` in its own process over a small demo warehouse
(the cost of a cached read or an ops-store read hardly depends on the warehouse's size), one
client sending sequential requests with a viewer token, and the server process's own CPU
time (user + system, from /proc) divided by the number of requests. `/health` (no token, no
reads) is the floor: uvicorn, routing and JSON alone.

Linux only (/proc). The figure counts CPU, not wall time, but a loaded machine still inflates
it (caches, frequency): read it with the load average beside it.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import httpx

from connectors.settings import Settings
from tests.benchmarks import BenchmarkSanityError, BenchOptions, BenchReport, Figure, load_average
from tests.benchmarks.bench_api import ENDPOINTS, build_demo_home
from tests.fixtures.serve_process import free_port, issue_token, start_serve

PROFILES = 500
REQUESTS = 300
"""Sequential requests per endpoint per run; /proc counts CPU in 10 ms ticks."""
WARM_UP = 5
FLOOR = "/health"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of process `pid` so far (fields 14 and 15 of /proc/pid/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _one_run(home: Path, token: str) -> dict[str, float]:
    """Server CPU ms per request, by endpoint, for one server process."""
    port = free_port()
    server = start_serve(home, port)
    cpu_ms: dict[str, float] = {}
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=300) as c:
            for path in (FLOOR, *ENDPOINTS):
                for _ in range(WARM_UP):  # the first read of each is a real warehouse query
                    if (status := c.get(path).status_code) != 200:
                        raise BenchmarkSanityError(f"{path} answered {status}")
            for path in (FLOOR, *ENDPOINTS):
                before = _cpu_seconds(server.pid)
                for _ in range(REQUESTS):
                    c.get(path)
                cpu_ms[path] = (_cpu_seconds(server.pid) - before) / REQUESTS * 1000
    finally:
        server.terminate()
        server.wait(timeout=30)
    return cpu_ms


def run(options: BenchOptions) -> BenchReport:
    with tempfile.TemporaryDirectory(prefix="tidemark-bench-api-overhead-") as scratch:
        home = Path(scratch) / "home"
        print(f"building a demo warehouse of {PROFILES} profiles, load {load_average()}")
        build_demo_home(home, PROFILES)
        token = issue_token(Settings(home=home), "viewer", name="bench")
        runs = []
        for index in range(options.runs):
            load_before = load_average()
            print(f"run {index + 1}/{options.runs}, load {load_before}")
            started = time.perf_counter()
            cpu_ms = _one_run(home, token)
            runs.append(
                {
                    "cpu_ms_per_request": cpu_ms,
                    "seconds": time.perf_counter() - started,
                    "load_before": load_before,
                    "load_after": load_average(),
                }
            )
    return BenchReport(
        name="api_overhead",
        title=f"Server CPU per request (sequential, {PROFILES} profiles)",
        options=options,
        figures=[
            Figure(path, "ms CPU", tuple(r["cpu_ms_per_request"][path] for r in runs))
            for path in (FLOOR, *ENDPOINTS)
        ],
        runs=runs,
        context={"profiles": PROFILES, "requests_per_endpoint": REQUESTS},
    )
