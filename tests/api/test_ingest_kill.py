"""Kill test: `tidemark serve` SIGKILLed mid-stream loses nothing it acknowledged.

A client streams batches of 500 events at a real server process. After a random number of
acknowledgements another thread kills the process with SIGKILL while the next request is in
flight. Every
event of every batch answered 202 must then be in a readable landing file; batches cut off
mid-request may or may not be there, but never half of one (files appear whole or not at all).
"""

from __future__ import annotations

import random
import signal
import threading
from collections import Counter

import httpx
import pytest

from connectors.landing import LocalLandingZone
from connectors.loader.conform import read_parquet
from connectors.settings import Settings
from tests.fixtures.serve_process import free_port, issue_token, start_serve

BATCH = 500
TRIALS = 2


def batch(n: int) -> list[dict[str, object]]:
    return [
        {
            "event_id": f"b{n}-e{i}",
            "profile_id": f"p{i % 50}",
            "event_type": "page_view",
            "occurred_at": "2026-11-01T10:00:00Z",
        }
        for i in range(BATCH)
    ]


def landed_event_ids(landing: LocalLandingZone) -> Counter[str]:
    ids: Counter[str] = Counter()
    for file in landing.list("events"):
        ids.update(read_parquet(landing.read(file.key)).column("event_id").to_pylist())
    return ids


@pytest.mark.parametrize("trial", range(TRIALS))
def test_everything_acknowledged_before_sigkill_is_in_the_landing_zone(tmp_path, trial):
    home = tmp_path / "home"
    settings = Settings(home=home)
    headers = {"Authorization": f"Bearer {issue_token(settings, 'marketer')}"}
    port = free_port()
    server = start_serve(home, port)
    kill_after = random.Random(trial).randint(3, 12)
    acknowledged: list[str] = []
    refused: list[str] = []
    enough = threading.Event()

    def stream() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10.0) as client:
            for n in range(10_000):
                records = batch(n)
                try:
                    response = client.post(
                        "/api/v1/events", json={"records": records}, headers=headers
                    )
                except httpx.TransportError:
                    return  # the server is gone: this batch was never acknowledged
                if response.status_code != 202:
                    refused.append(f"{response.status_code}: {response.text}")
                    enough.set()
                    return
                acknowledged.extend(r["event_id"] for r in records)
                if n + 1 >= kill_after:
                    enough.set()

    def kill() -> None:
        enough.wait(timeout=120)
        server.send_signal(signal.SIGKILL)

    threads = [threading.Thread(target=stream), threading.Thread(target=kill)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    server.wait(timeout=30)

    assert refused == []
    assert server.returncode == -signal.SIGKILL
    landed = landed_event_ids(LocalLandingZone(settings.landing_location))
    missing = set(acknowledged) - set(landed)
    assert not missing, f"{len(missing)} acknowledged events are not in the landing zone"
    assert len(acknowledged) >= kill_after * BATCH
    # Every file is whole: each batch is all there or not at all.
    per_batch = Counter(event_id.rsplit("-e", 1)[0] for event_id in landed)
    assert set(per_batch.values()) == {BATCH}
