"""Kill a delivering process at random moments: nobody gets a message twice, nobody is lost."""

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from activation.from_settings import ops_sessions
from connectors.ops_store.delivery_models import OutboxMessage
from connectors.settings import REPO_ROOT, Settings
from connectors.warehouse.duckdb import DuckDBWarehouse
from tests.activation.audience import add_many, create_audience_tables
from tests.connectors.destinations.servers.smtp_sink import SmtpSink

pytestmark = [pytest.mark.slow]

RECIPIENTS = 5_000
TRIALS = 20


def start_worker(home, port, connections):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.activation.crash_worker",
            str(home),
            str(port),
            str(connections),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("connections", "trials"),
    # Several SMTP connections send a batch from several threads at once: the ledger's
    # guarantees must not depend on one message being on the wire at a time.
    [(1, TRIALS), (3, TRIALS // 2)],
    ids=["one-connection", "three-connections"],
)
def test_sigkill_at_random_points_never_duplicates_or_loses_a_recipient(
    tmp_path, connections, trials
):
    settings = Settings(home=tmp_path)
    warehouse = DuckDBWarehouse(settings.duckdb_file)
    create_audience_tables(warehouse, "test")
    add_many(warehouse, RECIPIENTS)
    sink = SmtpSink().start()
    rng = random.Random(20261127)
    kills = 0
    try:
        for _ in range(trials):
            worker = start_worker(tmp_path, sink.port, connections)
            # A random moment in the worker's life: start-up, planning, enqueueing, sending.
            deadline = time.monotonic() + rng.uniform(0.5, 8.0)
            while worker.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)  # polling the clock for the kill moment, not synchronising
            if worker.poll() is None:
                worker.send_signal(signal.SIGKILL)
                kills += 1
            worker.wait(timeout=30)
        final = start_worker(tmp_path, sink.port, connections)
        _out, err = final.communicate(timeout=600)
        assert final.returncode == 0, err
    finally:
        sink.stop()

    received = Counter(r for mail in sink.received for r in mail.rcpt_tos)
    assert kills >= trials // 4, "the trials should mostly interrupt the worker"
    assert max(received.values()) == 1, "a recipient got the same message twice"
    with ops_sessions(settings)() as session:
        states = dict(
            session.execute(
                select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
            ).all()
        )
        sent_to = set(
            session.scalars(
                select(OutboxMessage.address).where(OutboxMessage.state == "sent")
            ).all()
        )
        in_doubt = set(
            session.scalars(
                select(OutboxMessage.address).where(OutboxMessage.state == "in_doubt")
            ).all()
        )
    named = {str(k): v for k, v in states.items()}
    # Every planned recipient ends in a named final state; none is missing or still sending.
    assert sum(named.values()) == RECIPIENTS
    assert set(named) <= {"sent", "in_doubt", "failed", "excluded"}
    # Whatever reached the server is recorded as sent or in doubt, never as unsent.
    assert set(received) <= sent_to | in_doubt
    assert sent_to <= set(received)
    print(f"\n{kills} kills; final states: {named}")
