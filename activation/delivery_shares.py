"""Deliver one run with several worker processes, each owning a share of the outbox.

The outbox is spread over `PARTITIONS` hash partitions; worker `index` of `count` claims only
partitions `p` with `p % count == index`, so no two workers ever compete for a row (and on
PostgreSQL `FOR UPDATE SKIP LOCKED` would keep them apart even if they did). The process that
holds the activation's lock starts the workers, waits for every one of them, and only then
sweeps what is left (a dead worker's share, retries that came due) and sets the run's final
status — once, in one place, after all workers are done.

A worker is `python -m activation.delivery_shares RUN_ID INDEX COUNT`, configured from the
environment like every other Tidemark process; it prints its counts as one JSON line.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from activation.deliver import DeliveryReport

log = logging.getLogger(__name__)

WORKER_MODULE = "activation.delivery_shares"


@dataclass(frozen=True)
class ShareResult:
    """How one worker ended: its exit code, and its counts when it lived to report them."""

    index: int
    exit_code: int
    counts: Counter[str] = field(default_factory=Counter)
    stopped_by: str | None = None
    seconds: float = 0.0  # spent delivering, after the worker's start-up


ShareLauncher = Callable[[str, int], list[ShareResult]]
"""Start `count` workers for a run, wait for all of them, and say how each ended."""


def report_line(report: DeliveryReport) -> str:
    """What a worker prints when it is done: the launcher reads it back."""
    return json.dumps(
        {"counts": dict(report.counts), "stopped_by": report.stopped_by, "seconds": report.seconds}
    )


class SubprocessShareLauncher:
    """Starts each worker as a local process: `argv_prefix + [RUN_ID, INDEX, COUNT]`."""

    def __init__(
        self,
        argv_prefix: Sequence[str] = (sys.executable, "-m", WORKER_MODULE),
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.argv_prefix = list(argv_prefix)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd

    def __call__(self, run_id: str, count: int) -> list[ShareResult]:
        workers = [
            subprocess.Popen(
                [*self.argv_prefix, run_id, str(index), str(count)],
                stdout=subprocess.PIPE,  # one JSON line; logs go to our stderr
                text=True,
                env=self.env if self.env is not None else dict(os.environ),
                cwd=self.cwd,
            )
            for index in range(count)
        ]
        results = []
        for index, worker in enumerate(workers):
            output, _ = worker.communicate()
            results.append(_result(index, worker.returncode, output))
        return results


def _result(index: int, exit_code: int, output: str) -> ShareResult:
    lines = [line for line in output.splitlines() if line.startswith("{")]
    if exit_code != 0 or not lines:
        log.warning("delivery worker %d of the run ended with exit code %d", index, exit_code)
        return ShareResult(index, exit_code)
    report = json.loads(lines[-1])
    log.info("delivery worker %d: %s in %.1f s", index, report["counts"], report["seconds"])
    return ShareResult(
        index, exit_code, Counter(report["counts"]), report["stopped_by"], report["seconds"]
    )


def main(argv: Sequence[str]) -> int:
    """Deliver one share of a run with the engine configured from the environment."""
    from activation.from_settings import engine_from_settings
    from connectors.settings import get_settings

    if len(argv) != 3:
        print(f"usage: python -m {WORKER_MODULE} RUN_ID INDEX COUNT", file=sys.stderr)
        return 2
    run_id, index, count = argv[0], int(argv[1]), int(argv[2])
    logging.basicConfig(level=logging.INFO)
    report = engine_from_settings(get_settings()).deliver_share(run_id, index, count)
    print(report_line(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
