"""The engine against real parts: a DuckDB warehouse, a SQLite ops store, an SMTP server.

Fixtures (`sink`, `settings`, `warehouse`, `sessions`) for the engine's tests, and the helpers
they share: an engine wired like production, activations defined through the catalog.
"""

import pytest
from sqlalchemy import func, select

from activation.catalog import create_activation
from activation.definition import ActivationDefinition
from activation.destinations import destination_for
from activation.engine import ActivationEngine
from activation.message_renderer import renderer_for
from connectors.ops_store import create_ops_engine, create_schema, ops_sessionmaker
from connectors.ops_store.delivery_models import ActivationRun, OutboxMessage
from connectors.settings import Settings
from connectors.warehouse.duckdb import DuckDBWarehouse
from tests.activation.audience import add_profile, create_audience_tables, manifest_for, segment
from tests.connectors.destinations.servers.smtp_sink import SmtpSink

MJML = """<mjml><mj-body><mj-section><mj-column>
<mj-text>Hello {{ first_name }}!</mj-text>
<mj-button href="https://shop.example.com/?p={{ profile_id }}">Shop</mj-button>
<mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>"""


@pytest.fixture
def sink():
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path, sink):
    return Settings(
        home=tmp_path,
        destinations={
            "sink": {
                "kind": "smtp",
                "config": {"host": sink.host, "port": sink.port, "starttls": False},
            }
        },
    )


@pytest.fixture
def warehouse(settings):
    w = DuckDBWarehouse(settings.duckdb_file)
    create_audience_tables(w, "test", "other")
    return w


MEMBERS = ("ann", "bob", "cat")
"""The members of `audience`, the segment the anomaly-hold tests run over."""


@pytest.fixture
def audience(warehouse):
    for profile_id in MEMBERS:
        add_profile(warehouse, profile_id)
    return warehouse


@pytest.fixture
def sessions(settings):
    engine = create_ops_engine(settings.ops_store_dsn)
    create_schema(engine)
    return ops_sessionmaker(engine)


def make_engine(settings, warehouse, sessions, **options):
    """`options`: the engine's own keyword arguments (a `clock`, a retry `policy`)."""
    manifest = manifest_for(segment("test"), segment("other"))
    return ActivationEngine(
        warehouse=warehouse,
        sessions=sessions,
        manifest=lambda: manifest,
        destination_for=lambda d: destination_for(settings, d),
        renderer_for=lambda d: renderer_for(settings, d),
        **options,
    )


def define(sessions, name="welcome", segment_name="test", **overrides):
    values = {
        "name": name,
        "segment": segment_name,
        "destination": "sink",
        "channel": "email",
        "message": {
            "subject": "Welcome, {{ first_name }}",
            "from_address": "shop@example.com",
            "mjml": MJML,
        },
        "quiet_hours": None,
    }
    values.update(overrides)
    with sessions() as session, session.begin():
        return create_activation(
            session,
            ActivationDefinition.model_validate(values),
            actor="test",
            manifest=manifest_for(segment("test"), segment("other")),
            segments=[segment("test"), segment("other")],
        )


def state_counts_for_all(session):
    runs = session.scalar(select(func.count()).select_from(ActivationRun))
    messages = session.scalar(select(func.count()).select_from(OutboxMessage))
    return runs + messages


def received_by_address(sink):
    counts = {}
    for mail in sink.received:
        for rcpt in mail.rcpt_tos:
            counts[rcpt] = counts.get(rcpt, 0) + 1
    return counts
