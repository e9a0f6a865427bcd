"""Several worker processes deliver one run on PostgreSQL: no duplicates, no loss, one rate.

Real parts throughout: the ops store on PostgreSQL (claims with `FOR UPDATE SKIP LOCKED`), the
coordinating engine in this process, worker processes started by the engine's launcher, and
an aiosmtpd sink that notes when each message arrives, to measure the aggregate rate.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import select

from activation.catalog import create_activation
from activation.definition import ActivationDefinition
from activation.engine import ActivationRunError
from connectors.ops_store.delivery_models import OutboxMessage
from tests.activation.audience import add_many, create_audience_tables, manifest_for, segment
from tests.activation.crash_worker import ACTIVATION as CRASH_TEST_ACTIVATION
from tests.activation.share_worker import BURST, engine_for, launcher_for, worker_settings

pytestmark = [pytest.mark.postgres]

RECIPIENTS = 1_500
RATE_PER_S = 300.0
WORKERS = 4

ACTIVATION = {**CRASH_TEST_ACTIVATION, "name": "parallel"}


@pytest.fixture
def setup(tmp_path, sink, postgres_url, monkeypatch):
    """The coordinating engine and its launcher; workers get the ops store from the env."""
    monkeypatch.setenv("TIDEMARK_OPS_STORE_URL", postgres_url)
    settings = worker_settings(tmp_path, sink.port, RATE_PER_S)
    assert settings.ops_store_dsn == postgres_url
    launcher = launcher_for(tmp_path, sink.port, RATE_PER_S, dict(os.environ))
    engine = engine_for(settings, launcher)
    create_audience_tables(engine.warehouse, "test")
    add_many(engine.warehouse, RECIPIENTS)
    with engine.sessions() as session, session.begin():
        create_activation(
            session,
            ActivationDefinition.model_validate(ACTIVATION),
            actor="test",
            manifest=manifest_for(segment("test")),
            segments=[segment("test")],
        )
    return engine


def outbox(engine):
    with engine.sessions() as session:
        return session.execute(
            select(OutboxMessage.message_id, OutboxMessage.state, OutboxMessage.claimed_by)
        ).all()


def assert_rate_within(sink, rate_per_s, burst):
    """No stretch of arrivals holds more than `burst + rate * its length` (plus jitter)."""
    times = sorted(mail.received_at for mail in sink.received)
    worst = 0.0
    for start in range(0, len(times), 25):
        for end in range(start + 1, len(times)):
            span = times[end] - times[start]
            excess = (end - start + 1) - (burst + rate_per_s * span)
            worst = max(worst, excess)
    # One SMTP exchange of delay can bunch a few arrivals together at the sink.
    assert worst <= 5, f"the workers together exceeded the rate by {worst:.1f} messages"
    overall = (len(times) - burst) / (times[-1] - times[0])
    assert overall <= rate_per_s * 1.02, f"{overall:.0f} msg/s over the whole run"
    return overall


def test_four_workers_deliver_every_recipient_once_within_the_rate(setup, sink):
    engine = setup
    report = engine.run("parallel", requested_by="test", workers=WORKERS)

    assert report.status == "completed", report.reason
    received = Counter(sink.received_ids())
    assert len(received) == RECIPIENTS and max(received.values()) == 1
    rows = outbox(engine)
    assert Counter(state for _, state, _ in rows) == {"sent": RECIPIENTS}
    assert set(received) == {mid for mid, _, _ in rows}
    holders = Counter(claimed_by for _, _, claimed_by in rows)
    assert len(holders) == WORKERS, f"expected {WORKERS} workers to share the run: {holders}"
    assert min(holders.values()) > RECIPIENTS / WORKERS / 2, "the shares are very uneven"
    assert report.counts["sent"] == RECIPIENTS
    # Only the ceiling is asserted: how fast the workers get is the benchmark's measure, and a
    # floor here failed on a loaded machine (91 msg/s against 120).
    assert_rate_within(sink, RATE_PER_S, BURST)


def test_a_worker_killed_mid_run_leaves_no_duplicate_and_its_share_is_delivered(setup, sink):
    engine = setup
    result = {}
    coordinator = threading.Thread(
        target=lambda: result.update(
            report=engine.run("parallel", requested_by="test", workers=WORKERS)
        )
    )
    coordinator.start()
    me = f":{os.getpid()}"
    victim = None
    deadline = time.monotonic() + 300  # workers start slowly on a loaded machine
    while victim is None and time.monotonic() < deadline and coordinator.is_alive():
        # Watch the outbox for a worker that is well into its share; the pause only spaces
        # the queries out, the outbox says when to act.
        sent_by = Counter(c for _, state, c in outbox(engine) if state == "sent" and c)
        busy = [c for c, n in sent_by.items() if n >= 100 and not c.endswith(me)]
        victim = busy[0] if busy else None
        time.sleep(0.05)
    assert victim is not None, "no worker got going"
    os.kill(int(victim.rpartition(":")[2]), signal.SIGKILL)
    coordinator.join(timeout=600)
    assert not coordinator.is_alive()

    report = result["report"]
    assert report.status == "completed", report.reason
    received = Counter(sink.received_ids())
    assert max(received.values()) == 1, "a recipient got the same message twice"
    rows = outbox(engine)
    states = Counter(state for _, state, _ in rows)
    assert set(states) <= {"sent", "in_doubt"} and sum(states.values()) == RECIPIENTS
    sent = {mid for mid, state, _ in rows if state == "sent"}
    in_doubt = {mid for mid, state, claimed_by in rows if state == "in_doubt"}
    assert sent <= set(received), "a message recorded as sent never arrived"
    assert set(received) <= sent | in_doubt, "a message arrived that the ledger does not know"
    assert len(in_doubt) <= 50, "more in doubt than the killed worker's one batch"
    assert {c for _, state, c in rows if state == "in_doubt"} <= {victim}
    assert_rate_within(sink, RATE_PER_S, BURST)


def test_a_worker_refuses_a_run_that_is_not_delivering(setup):
    engine = setup
    report = engine.dry_run("parallel", requested_by="test")
    with pytest.raises(ActivationRunError, match="workers deliver only a run that is delivering"):
        engine.deliver_share(report.run_id, 0, 2)


def test_workers_must_fit_the_partitions(setup):
    with pytest.raises(ActivationRunError, match="between 1 and 64"):
        setup.run("parallel", requested_by="test", workers=65)
