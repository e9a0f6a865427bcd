"""The API core's fixtures: a real demo warehouse, built once by the CLI, copied per test.

`demo_source` runs `tidemark demo --no-serve` (generate, load, dbt build, the demo
activation) into a session folder; `core` copies it to the test's own folder, points the
`demo_smtp` destination at a recording SMTP sink, and builds the app with a token per role.
"""

import json
import shutil

import pytest

from tests.api.cli_runner import tidemark
from tests.api.intake import intake_app
from tests.connectors.destinations.servers.smtp_sink import SmtpSink

DEMO_PROFILES = 500


@pytest.fixture(scope="session")
def demo_source(tmp_path_factory):
    home = tmp_path_factory.mktemp("api-demo")
    result = tidemark(home, "demo", "--no-serve", "--profiles", str(DEMO_PROFILES))
    assert result.returncode == 0, result.stdout + result.stderr
    return home


@pytest.fixture
def smtp_sink():
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture
def core(demo_source, tmp_path, monkeypatch, smtp_sink):
    home = tmp_path / "home"
    shutil.copytree(demo_source, home)
    destinations = {
        "demo_smtp": {
            "kind": "smtp",
            "config": {"host": smtp_sink.host, "port": smtp_sink.port, "starttls": False},
        }
    }
    monkeypatch.setenv("TIDEMARK_HOME", str(home))
    monkeypatch.setenv("TIDEMARK_DUCKDB_PATH", str(home / "warehouse.duckdb"))
    monkeypatch.setenv("TIDEMARK_DESTINATIONS", json.dumps(destinations))
    return intake_app(home)
