"""A delivery worker for the parallel delivery tests: one share of a run, to an SMTP server.

`python -m tests.activation.share_worker HOME SMTP_PORT RATE RUN_ID INDEX COUNT`, with the ops
store's URL in `TIDEMARK_OPS_STORE_URL`. It is the real engine's `deliver_share`, wired like
`engine_for` wires the test's own (coordinating) engine; only the dbt manifest is hand-made.
"""

import sys
from pathlib import Path

from activation.delivery_shares import SubprocessShareLauncher, report_line
from activation.destinations import destination_for
from activation.engine import ActivationEngine
from activation.from_settings import ops_sessions
from activation.message_renderer import renderer_for
from connectors.settings import REPO_ROOT, Settings
from connectors.warehouse.duckdb import DuckDBWarehouse
from tests.activation.audience import manifest_for, segment

BATCH_SIZE = 50
BURST = 20


def worker_settings(
    home: Path, port: int, rate_per_s: float, burst: int | None = BURST, connections: int = 1
) -> Settings:
    """Settings from the environment (the ops store's URL), plus the sink as a destination."""
    return Settings(
        home=home,
        destinations={
            "sink": {
                "kind": "smtp",
                "config": {
                    "host": "127.0.0.1",
                    "port": port,
                    "starttls": False,
                    "batch_size": BATCH_SIZE,
                    "rate_limit_per_s": rate_per_s,
                    "rate_burst": burst,
                    "connections": connections,
                },
            }
        },
    )


def engine_for(settings: Settings, launcher: SubprocessShareLauncher | None) -> ActivationEngine:
    manifest = manifest_for(segment("test"))
    return ActivationEngine(
        warehouse=DuckDBWarehouse(settings.duckdb_file),
        sessions=ops_sessions(settings),
        manifest=lambda: manifest,
        destination_for=lambda d: destination_for(settings, d),
        renderer_for=lambda d: renderer_for(settings, d),
        share_launcher=launcher,
    )


def launcher_for(home: Path, port: int, rate_per_s: float, env: dict[str, str]):
    prefix = [sys.executable, "-m", "tests.activation.share_worker"]
    return SubprocessShareLauncher(
        [*prefix, str(home), str(port), str(rate_per_s)], env=env, cwd=str(REPO_ROOT)
    )


def main(home: str, port: str, rate: str, run_id: str, index: str, count: str) -> None:
    engine = engine_for(worker_settings(Path(home), int(port), float(rate)), None)
    report = engine.deliver_share(run_id, int(index), int(count))
    print(report_line(report), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
