"""Event ingest: events per second accepted *durably* by `POST /api/v1/events`.

A real `tidemark serve` process over a fresh home (local landing zone: every 202 comes after
an fsync'd Parquet file and an fsync of its folder), fed batches of 500 events by client
threads over loopback with keep-alive. Bodies are encoded before the clock starts, so the
figure is the server's. Goal (issue 5): ≥ 20,000 events/s on 2 cores, reported here as
≤ 0.5 s per 10,000 events, since the runner's goals are upper bounds.

The client shares the 2 cores with the server, so the figure is a floor for the server alone.
Sanity check: the landing zone must hold exactly the events acknowledged.
"""

from __future__ import annotations

import json
import signal
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pyarrow.parquet as pq

from connectors.landing import LocalLandingZone
from connectors.settings import Settings
from tests.benchmarks import BenchmarkSanityError, BenchOptions, BenchReport, Figure, load_average
from tests.fixtures.serve_process import free_port, issue_token, start_serve

BATCH = 500
FULL_EVENTS = 200_000
CLIENTS = 4
GOAL_EVENTS_PER_S = 20_000


def _bodies(run: int, batches: int) -> list[bytes]:
    return [
        json.dumps(
            {
                "records": [
                    {
                        "event_id": f"r{run}-b{b}-e{i}",
                        "profile_id": f"p{(b * BATCH + i) % 50_000}",
                        "event_type": "page_view",
                        "occurred_at": "2026-11-01T10:00:00Z",
                        "product_id": f"sku-{i % 300}",
                    }
                    for i in range(BATCH)
                ]
            }
        ).encode()
        for b in range(batches)
    ]


def _stream(port: int, token: str, bodies: list[bytes]) -> float:
    """Post every body with `CLIENTS` keep-alive clients; seconds from first send to last 202."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    failures: list[str] = []
    next_body = iter(bodies)
    lock = threading.Lock()

    def client_loop() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60.0) as client:
            while True:
                with lock:
                    body = next(next_body, None)
                if body is None:
                    return
                response = client.post("/api/v1/events", content=body, headers=headers)
                if response.status_code != 202:
                    failures.append(f"{response.status_code}: {response.text[:200]}")
                    return

    threads = [threading.Thread(target=client_loop) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise BenchmarkSanityError(f"ingest refused batches: {failures[:3]}")
    return elapsed


def _landed_rows(settings: Settings) -> int:
    landing = LocalLandingZone(settings.landing_location)
    return sum(
        pq.read_metadata(Path(settings.landing_location) / f.key).num_rows
        for f in landing.list("events")
    )


def run(options: BenchOptions) -> BenchReport:
    total = options.scaled(FULL_EVENTS, minimum=BATCH * CLIENTS * 2)
    batches = max(1, total // BATCH)
    report = BenchReport(
        name="ingest",
        title=f"Event ingest: {batches * BATCH:,} events in batches of {BATCH}, {CLIENTS} clients",
        options=options,
        context={"batch": BATCH, "clients": CLIENTS, "events_per_run": batches * BATCH},
    )
    per_10k: list[float] = []
    rates: list[float] = []
    for index in range(options.runs):
        with tempfile.TemporaryDirectory(prefix="tidemark-bench-ingest-") as scratch:
            settings = Settings(home=Path(scratch))
            token = issue_token(settings, "marketer", name="bench")
            port = free_port()
            bodies = _bodies(index, batches)
            server = start_serve(settings.home, port)
            load_before = load_average()
            try:
                # One warm-up batch: the first request opens the ops store and the zone.
                _stream(port, token, [_bodies(-1 - index, 1)[0]])
                seconds = _stream(port, token, bodies)
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=30)
            landed = _landed_rows(settings) - BATCH
            if landed != batches * BATCH:
                raise BenchmarkSanityError(
                    f"acknowledged {batches * BATCH} events but the landing zone holds {landed}"
                )
            rate = batches * BATCH / seconds
            rates.append(rate)
            per_10k.append(seconds * 10_000 / (batches * BATCH))
            report.runs.append(
                {
                    "seconds": seconds,
                    "events_per_s": rate,
                    "load_before": load_before,
                    "load_after": load_average(),
                }
            )
    report.figures.append(
        Figure(
            "time per 10,000 events accepted durably",
            "s",
            tuple(per_10k),
            goal=10_000 / GOAL_EVENTS_PER_S,
            note=f"goal ≥ {GOAL_EVENTS_PER_S:,} events/s",
        )
    )
    report.figures.append(Figure("events accepted durably per second", "events/s", tuple(rates)))
    return report


def main() -> None:  # pragma: no cover - a convenience for running this file alone
    report = run(BenchOptions(runs=1, scale=0.05))
    print(json.dumps(report.to_json()["figures"], indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
