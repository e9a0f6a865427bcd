"""A delivery worker for the crash-safety test: runs one activation to an SMTP server.

`python -m tests.activation.crash_worker HOME SMTP_PORT CONNECTIONS` — the test kills it at
random moments and starts it again; everything it uses is the real engine on files under HOME.
"""

import sys
from pathlib import Path

from activation.catalog import create_activation
from activation.definition import ActivationDefinition
from activation.destinations import destination_for
from activation.engine import ActivationEngine
from activation.from_settings import ops_sessions
from activation.message_renderer import renderer_for
from connectors.ops_store.delivery_models import StoredActivation
from connectors.warehouse.duckdb import DuckDBWarehouse
from tests.activation.audience import manifest_for, segment
from tests.activation.share_worker import worker_settings

ACTIVATION = {
    "name": "crash_test",
    "segment": "test",
    "destination": "sink",
    "channel": "email",
    "message": {
        "subject": "Hello {{ first_name }}",
        "from_address": "shop@example.com",
        "html": "<p>Hi {{ first_name }}</p><a href='{{ unsubscribe_url }}'>unsubscribe</a>",
    },
    "quiet_hours": None,
    "frequency_cap": None,
}


def main(home: str, port: int, connections: int) -> None:
    settings = worker_settings(Path(home), port, 5000, burst=None, connections=connections)
    sessions = ops_sessions(settings)
    manifest = manifest_for(segment("test"))
    with sessions() as session, session.begin():
        if session.get(StoredActivation, "crash_test") is None:
            create_activation(
                session,
                ActivationDefinition.model_validate(ACTIVATION),
                actor="test",
                manifest=manifest,
                segments=[segment("test")],
            )
    engine = ActivationEngine(
        warehouse=DuckDBWarehouse(settings.duckdb_file),
        sessions=sessions,
        manifest=lambda: manifest,
        destination_for=lambda d: destination_for(settings, d),
        renderer_for=lambda d: renderer_for(settings, d),
    )
    report = engine.run("crash_test", requested_by="crash-test")
    print(report.status, report.counts, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
