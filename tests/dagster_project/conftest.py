"""A Tidemark home in a temp folder whose `demo_smtp` destination is a local mail sink."""

import json

import pytest

from api.demo_mail_sink import DemoMailSink
from connectors.settings import Settings


@pytest.fixture
def sink(tmp_path):
    server = DemoMailSink(tmp_path / "mail").start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path, monkeypatch, sink):
    monkeypatch.setenv("TIDEMARK_HOME", str(tmp_path))
    monkeypatch.setenv("TIDEMARK_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv(
        "TIDEMARK_DESTINATIONS", json.dumps({"demo_smtp": sink.destination_config()})
    )
    return Settings()
