"""Read endpoints and dashboard pages of `tidemark serve` at 1,000,000 profiles: p95 with 20
concurrent clients.

A demo warehouse is built at the scale (`tidemark demo --no-serve`), `tidemark serve` runs in
its own process (once with one worker, once with `--workers 2`), and a load generator (20
concurrent keep-alive clients on loopback, cycling through the read endpoints) measures every
request's latency. Goal: p95 ≤ 150 ms over all of them.

The load generator is `wrk` (Debian's `wrk` package) when it is installed: written in C, it
leaves the cores to the server. Without it, 20 asyncio clients on httpx in this process do
the same work, but httpx spends about as much CPU per request as the server does, on the same
2 cores, so those figures measure the pair; the report says which generator ran.

The server reuses a fresh warehouse result for a few seconds (`FRESH_FOR_S` in
`api.reads.freshness`), so most requests under load are answered from that; the first
(cold) request of each endpoint is measured separately, as the cost of a real warehouse
query at this scale. Server and load generator share the machine's 2 cores.

Building the warehouse takes several minutes at full scale; `TIDEMARK_BENCH_API_HOME` names
a home already built (`DEMO_PROFILES=1000000 tidemark demo --no-serve` with `TIDEMARK_HOME`
there) to measure instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx

from connectors.settings import REPO_ROOT, Settings
from tests.benchmarks import BenchmarkSanityError, BenchOptions, BenchReport, Figure, load_average
from tests.benchmarks.bench_core_loop import child_env
from tests.fixtures.serve_process import free_port, issue_token, start_serve

FULL_PROFILES = 1_000_000
CLIENTS = 20
LOAD_SECONDS = 15.0
P95_GOAL_MS = 150.0
PREBUILT_HOME_VARIABLE = "TIDEMARK_BENCH_API_HOME"
"""A home with a demo warehouse already built at the scale: measured as is, never rebuilt."""
ENDPOINTS = (
    "/api/v1/overview",
    "/api/v1/segments",
    "/api/v1/segments/high_value",
    "/api/v1/activations",
    "/api/v1/runs",
    "/api/v1/deliverability",
    "/api/v1/experiments",
    # The dashboards' pages over the same reads, rendered to HTML (a bearer token signs in
    # as the dashboard cookie would).
    "/",
    "/segments/high_value",
    "/activations",
    "/runs",
    "/deliverability",
    "/experiments",
)


def build_demo_home(home: Path, profiles: int) -> float:
    """`tidemark demo --no-serve` at `profiles` into `home`; returns the seconds it took."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "demo", "--no-serve", "--profiles", str(profiles)],
        cwd=REPO_ROOT,
        env=child_env(home),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BenchmarkSanityError(f"demo build failed:\n{result.stdout[-3000:]}")
    return time.perf_counter() - started


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _client(
    base: str, headers: dict[str, str], offset: int, until: float, out: dict[str, list[float]]
) -> None:
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        index = offset
        while time.perf_counter() < until:
            path = ENDPOINTS[index % len(ENDPOINTS)]
            started = time.perf_counter()
            response = await client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise BenchmarkSanityError(f"{path} answered {response.status_code}")
            out.setdefault(path, []).append(elapsed)
            index += 1


async def _load(base: str, headers: dict[str, str]) -> dict[str, list[float]]:
    latencies: dict[str, list[float]] = {}
    until = time.perf_counter() + LOAD_SECONDS
    await asyncio.gather(
        *(_client(base, headers, offset, until, latencies) for offset in range(CLIENTS))
    )
    return latencies


def _cold(base: str, headers: dict[str, str]) -> dict[str, float]:
    cold = {}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for path in ENDPOINTS:
            started = time.perf_counter()
            response = client.get(path)
            cold[path] = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise BenchmarkSanityError(f"{path} answered {response.status_code}")
    return cold


def _httpx_load(base: str, headers: dict[str, str]) -> dict[str, Any]:
    latencies = asyncio.run(_load(base, headers))
    everything = [ms for samples in latencies.values() for ms in samples]
    return {
        "requests": len(everything),
        "requests_per_s": len(everything) / LOAD_SECONDS,
        "p50_ms": statistics.median(everything),
        "p95_ms": _percentile(everything, 0.95),
        "p95_by_endpoint_ms": {p: _percentile(s, 0.95) for p, s in latencies.items()},
    }


WRK_SCRIPT = """
local paths = {%(paths)s}
local headers = {["Authorization"] = "Bearer " .. os.getenv("TIDEMARK_BENCH_TOKEN")}
local next_path = 0
request = function()
  next_path = next_path %% #paths + 1
  return wrk.format("GET", paths[next_path], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("tidemark-wrk %%d %%d %%d %%d %%d\\n", summary.requests,
    e.status + e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(95)))
end
"""
"""Cycles through the endpoints; prints requests, errors (non-2xx and socket), duration (µs),
p50 and p95 (µs) on one line for the benchmark to read."""


def _wrk_load(base: str, token: str, scratch: Path) -> dict[str, Any]:
    script = scratch / "cycle_endpoints.lua"
    script.write_text(WRK_SCRIPT % {"paths": ", ".join(f'"{p}"' for p in ENDPOINTS)})
    result = subprocess.run(
        ["wrk", "-t1", f"-c{CLIENTS}", f"-d{LOAD_SECONDS:.0f}s", "-s", str(script), base],
        env={**os.environ, "TIDEMARK_BENCH_TOKEN": token},
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("tidemark-wrk "))
    requests, errors, duration_us, p50_us, p95_us = (int(x) for x in line.split()[1:])
    if errors:
        raise BenchmarkSanityError(f"wrk saw {errors} failed requests:\n{result.stdout}")
    return {
        "requests": requests,
        "requests_per_s": requests / (duration_us / 1e6),
        "p50_ms": p50_us / 1000,
        "p95_ms": p95_us / 1000,
    }


def _one_run(home: Path, token: str, workers: int, scratch: Path) -> dict[str, Any]:
    port = free_port()
    server = start_serve(home, port, "--workers", str(workers))
    try:
        base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
        cold = _cold(base, headers)
        load_before = load_average()
        if shutil.which("wrk"):
            measured = _wrk_load(base, token, scratch)
        else:
            measured = _httpx_load(base, headers)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "cold_ms": cold,
        **measured,
        "load_before": load_before,
        "load_after": load_average(),
    }


def _prebuilt(home: Path, profiles: int) -> None:
    """Check that `home` holds a demo warehouse of `profiles` profiles (it is read, not built)."""
    database = home / "warehouse.duckdb"
    if not database.is_file():
        raise BenchmarkSanityError(f"{PREBUILT_HOME_VARIABLE}: no warehouse at {database}")
    with duckdb.connect(str(database), read_only=True) as connection:
        row = connection.execute("select count(*) from analytics.profiles").fetchone()
    if row is None or row[0] != profiles:
        raise BenchmarkSanityError(
            f"{PREBUILT_HOME_VARIABLE}: {database} holds {row and row[0]} profiles, "
            f"not {profiles:,}"
        )


def run(options: BenchOptions) -> BenchReport:
    profiles = options.scaled(FULL_PROFILES, minimum=500)
    prebuilt = os.environ.get(PREBUILT_HOME_VARIABLE)
    with tempfile.TemporaryDirectory(prefix="tidemark-bench-api-") as scratch:
        home = Path(prebuilt) if prebuilt else Path(scratch) / "home"
        build_s: float | None = None
        if prebuilt:
            _prebuilt(home, profiles)
            print(f"reading the demo warehouse of {profiles:,} profiles in {home}")
        else:
            print(f"building a demo warehouse of {profiles:,} profiles, load {load_average()}")
            build_s = build_demo_home(home, profiles)
        token = issue_token(Settings(home=home), "viewer", name="bench")
        runs, two = [], []
        for index in range(options.runs):
            print(f"run {index + 1}/{options.runs}: {CLIENTS} clients, load {load_average()}")
            runs.append(_one_run(home, token, workers=1, scratch=Path(scratch)))
            two.append(_one_run(home, token, workers=2, scratch=Path(scratch)))
    cold_max = [max(r["cold_ms"].values()) for r in runs]
    return BenchReport(
        name="api",
        title=f"API read endpoints at {profiles:,} profiles, {CLIENTS} concurrent clients",
        options=options,
        figures=[
            Figure(
                "p95 latency, all read endpoints",
                "ms",
                tuple(r["p95_ms"] for r in runs),
                goal=P95_GOAL_MS if profiles == FULL_PROFILES else None,
            ),
            Figure("p50 latency", "ms", tuple(r["p50_ms"] for r in runs)),
            Figure(
                "p95 latency, --workers 2",
                "ms",
                tuple(r["p95_ms"] for r in two),
                goal=P95_GOAL_MS if profiles == FULL_PROFILES else None,
            ),
            Figure("throughput, --workers 2", "req/s", tuple(r["requests_per_s"] for r in two)),
            Figure("throughput", "req/s", tuple(r["requests_per_s"] for r in runs)),
            Figure("slowest cold request (a real warehouse query)", "ms", tuple(cold_max)),
        ],
        runs=[{"workers": 1, **r} for r in runs] + [{"workers": 2, **r} for r in two],
        context={
            "profiles": profiles,
            "build_s": build_s,
            "endpoints": list(ENDPOINTS),
            "load_seconds": LOAD_SECONDS,
            "goals_apply": profiles == FULL_PROFILES,
            "load_generator": "wrk" if shutil.which("wrk") else "httpx (asyncio, in process)",
        },
    )
