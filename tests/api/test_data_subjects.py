"""Data-subject requests against real parts: a profile's data exported, then erased everywhere."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from activation.data_subjects import (
    ERASED_REASON,
    carry_out_erasures,
    export_profile,
    request_erasure,
)
from activation.data_subjects.export import BATCH_ROWS as EXPORT_BATCH_ROWS
from activation.feedback import FeedbackEvent, FeedbackType, land_feedback
from api.app import create_app
from connectors.landing import LocalLandingZone
from connectors.loader import load_landing_files
from connectors.loader.conform import read_parquet
from connectors.ops_store import (
    address_hash,
    create_ops_engine,
    create_schema,
    is_suppressed,
    list_audit,
    ops_sessionmaker,
)
from connectors.ops_store.delivery_models import OutboxMessage
from connectors.ops_store.erasure_requests import ErasureRequest
from connectors.ops_store.models import ImmediateSuppression
from connectors.ops_store.tokens import create_token
from tests.activation.audience import add_profile
from tests.activation.conftest import (  # noqa: F401 - fixtures
    define,
    make_engine,
    received_by_address,
    sessions,
    settings,
    sink,
    warehouse,
)
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING
from tests.connectors.ops_store.test_ops_store import database_text

pytestmark = pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)
SUBJECT = "zoe7"
OTHER = "yan3"


def ingest(client, headers, path, records):
    response = client.post(path, json={"records": records}, headers=headers)
    assert response.status_code == 202, response.text


def person(profile_id):
    return {
        "profile_id": profile_id,
        "email": f"{profile_id}@example.com",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-02-01T00:00:00Z",
    }


def events(profile_id, count, start=0):
    return [
        {
            "event_id": f"{profile_id}-e{n}",
            "profile_id": profile_id,
            "event_type": "page_view",
            "occurred_at": "2026-03-01T00:00:00Z",
        }
        for n in range(start, start + count)
    ]


@pytest.fixture
def world(settings, warehouse, sessions, sink):  # noqa: F811
    """Two customers with raw rows, model rows, sent messages and provider feedback."""
    with sessions.begin() as session:
        headers = {
            role: {
                "Authorization": f"Bearer {create_token(session, name=role, role=role).plaintext}"
            }
            for role in ("marketer", "admin")
        }
    client = TestClient(create_app(settings))
    landing = LocalLandingZone(settings.landing_location)
    for profile_id in (SUBJECT, OTHER):
        ingest(client, headers["marketer"], "/api/v1/profiles", [person(profile_id)])
        ingest(client, headers["marketer"], "/api/v1/events", events(profile_id, 3))
        add_profile(warehouse, profile_id)
    # A bounce the provider could not match to a profile: known only by its address.
    land_feedback(
        landing,
        [
            FeedbackEvent(
                provider="ses",
                event_type=FeedbackType.DELIVERED,
                occurred_at=datetime(2026, 3, 2),
                message_id="ses:unmatched",
                is_matched=False,
                recipient=f"{SUBJECT.upper()}@Example.com",
            )
        ],
    )
    load_landing_files(landing, warehouse)
    define(sessions)
    engine = make_engine(settings, warehouse, sessions)
    assert engine.run("welcome", requested_by="test").counts == {"sent": 2}
    return client, headers, engine, landing


def test_export_streams_every_row_held_about_the_profile_and_nothing_of_others(
    world,
    sessions,  # noqa: F811
):
    client, headers, _, _ = world

    response = client.get(f"/api/v1/profiles/{SUBJECT}/export", headers=headers["admin"])

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    held = document["warehouse"]
    assert document["addresses"] == [f"{SUBJECT}@example.com"]
    assert [r["event_id"] for r in held["raw.events"]] == [f"{SUBJECT}-e{n}" for n in range(3)]
    assert [r["email"] for r in held["raw.profiles"]] == [f"{SUBJECT}@example.com"]
    assert [r["profile_id"] for r in held["analytics.profiles"]] == [SUBJECT]
    assert [r["recipient"] for r in held["raw.message_events"]] == [
        f"{SUBJECT.upper()}@Example.com"
    ]
    assert [r["state"] for r in held["tidemark.message_log"]] == ["sent"]
    assert [m["address"] for m in document["ops_store"]["outbox"]] == [f"{SUBJECT}@example.com"]
    assert OTHER not in response.text
    with world[2].sessions() as session:
        [entry] = (
            list_audit(session, action=None)
            if False
            else list_audit(session, resource_type="profile_subject")
        )
        assert entry.action == "profile.export" and SUBJECT not in entry.resource_id


def test_export_and_erase_are_for_admins_only_and_unknown_profiles_are_404(world):
    client, headers, _, _ = world
    export = f"/api/v1/profiles/{SUBJECT}/export"
    assert client.get(export).status_code == 401
    assert client.get(export, headers=headers["marketer"]).status_code == 403
    assert (
        client.delete(f"/api/v1/profiles/{SUBJECT}", headers=headers["marketer"]).status_code == 403
    )
    missing = client.get("/api/v1/profiles/nobody/export", headers=headers["admin"])
    assert missing.status_code == 404 and "nobody" in missing.json()["detail"]
    assert client.delete("/api/v1/profiles/nobody", headers=headers["admin"]).status_code == 404


def warehouse_mentions(store, needle):
    """Tables with any text column containing `needle` (case-insensitive)."""
    columns = store.query_arrow(
        "select c.table_schema as s, c.table_name as t, c.column_name as c "
        "from information_schema.columns c join information_schema.tables t "
        "using (table_schema, table_name) "
        "where t.table_type = 'BASE TABLE' and c.data_type = 'VARCHAR'"
    ).to_pylist()
    found = set()
    for col in columns:
        hits = store.scalar(
            f'select count(*) from "{col["s"]}"."{col["t"]}" where "{col["c"]}" ilike ?',
            [f"%{needle}%"],
        )
        if hits:
            found.add(f"{col['s']}.{col['t']}")
    return found


def test_erasure_stops_sends_at_once_then_removes_the_profile_everywhere(
    world,
    settings,  # noqa: F811
    warehouse,  # noqa: F811
    sessions,  # noqa: F811
    sink,  # noqa: F811
):
    client, headers, engine, landing = world
    assert warehouse_mentions(warehouse, SUBJECT) >= {"raw.events", "analytics.profiles"}

    response = client.delete(f"/api/v1/profiles/{SUBJECT}", headers=headers["admin"])

    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "pending" and accepted["suppressed_addresses"] == 1
    assert accepted["removed"]["ops_store.outbox"] == 1
    # At once: the address is suppressed as erased, so a send planned now skips the profile.
    with sessions() as session:
        suppression = session.scalars(select(ImmediateSuppression)).one()
        assert suppression.reason == ERASED_REASON
        assert suppression.address_hash == address_hash("email", f"{SUBJECT}@example.com")
        assert (
            session.scalars(select(OutboxMessage).where(OutboxMessage.profile_id == SUBJECT)).all()
            == []
        )
    define(sessions, name="news")
    engine.run("news", requested_by="test")
    assert received_by_address(sink) == {f"{SUBJECT}@example.com": 1, f"{OTHER}@example.com": 2}
    # Rows that arrive before the erasure run (still in the landing zone) are erased too.
    ingest(client, headers["marketer"], "/api/v1/events", events(SUBJECT, 2, start=10))

    [outcome] = carry_out_erasures(warehouse, landing, sessions)

    assert outcome.status == "done"
    removed = outcome.removed["warehouse"]
    assert removed["raw.events"] == 5 and removed["raw.message_events"] == 1
    assert {"raw.profiles", "analytics.profiles", "tidemark.message_log"} <= set(removed)
    assert warehouse_mentions(warehouse, SUBJECT) == set()
    assert warehouse.scalar("select count(*) from raw.events where profile_id = ?", [OTHER]) == 3
    # The landing files they came from no longer hold them either; the others' rows stay.
    assert outcome.removed["landing"]["rows"] == 1 + 3 + 2 + 1  # profile, events x2, bounce
    landed = [read_parquet(landing.read(f.key)) for f in landing.list()]
    assert not any(SUBJECT in str(t.to_pylist()).lower() for t in landed)
    assert sum(t.num_rows for t in landed if "event_id" in t.column_names) == 3
    assert SUBJECT not in database_text(sessions.kw["bind"])
    status = client.get(
        f"/api/v1/erasure-requests/{accepted['request_id']}", headers=headers["admin"]
    ).json()
    assert status["status"] == "done" and status["completed_at"] is not None
    with sessions() as session:
        assert session.get(ErasureRequest, accepted["request_id"]).profile_id is None
        actions = [e.action for e in list_audit(session, resource_type="erasure_request")]
        assert actions == ["profile.erase.complete", "profile.erase"]
    assert (
        client.get(f"/api/v1/profiles/{SUBJECT}/export", headers=headers["admin"]).status_code
        == 404
    )
    assert carry_out_erasures(warehouse, landing, sessions) == []


def test_an_erased_address_is_never_mailed_again_under_a_new_profile(
    world,
    warehouse,  # noqa: F811
    sessions,  # noqa: F811
    sink,  # noqa: F811
):
    client, headers, engine, landing = world
    client.delete(f"/api/v1/profiles/{SUBJECT}", headers=headers["admin"])
    carry_out_erasures(warehouse, landing, sessions)
    add_profile(warehouse, "newcomer", email=f" {SUBJECT.title()}@EXAMPLE.com")

    report = engine.run("welcome", requested_by="test")

    assert report.counts == {}
    assert received_by_address(sink) == {f"{SUBJECT}@example.com": 1, f"{OTHER}@example.com": 1}
    reasons = warehouse.query_arrow(
        "select profile_id, reason from tidemark.exclusions where run_id = ?", [report.run_id]
    ).to_pylist()
    assert reasons == [{"profile_id": "newcomer", "reason": "erased"}]


@pytest.mark.postgres
def test_erasure_with_the_ops_store_on_postgresql(
    settings,  # noqa: F811
    warehouse,  # noqa: F811
    postgres_url,
):
    ops = create_ops_engine(postgres_url)
    create_schema(ops)
    pg_sessions = ops_sessionmaker(ops)
    add_profile(warehouse, SUBJECT)
    add_profile(warehouse, OTHER)

    outcome = request_erasure(warehouse, pg_sessions, SUBJECT, actor="token:admin")
    [done] = carry_out_erasures(warehouse, LocalLandingZone(settings.landing_location), pg_sessions)

    assert done.request_id == outcome.request_id and done.status == "done"
    with pg_sessions() as session:
        assert is_suppressed(session, "email", f"{SUBJECT}@example.com")
        assert session.get(ErasureRequest, outcome.request_id).profile_id is None
    assert SUBJECT not in database_text(ops)
    assert warehouse_mentions(warehouse, SUBJECT) == set()


def test_a_long_history_is_exported_in_bounded_chunks(
    warehouse,  # noqa: F811
    sessions,  # noqa: F811
):
    add_profile(warehouse, SUBJECT)
    warehouse.execute("create schema raw")
    warehouse.execute(
        "create table raw.events as select 'e' || i as event_id, ? as profile_id, "
        "'page_view' as event_type, timestamp '2026-01-01' as occurred_at from range(12000) t(i)",
        [SUBJECT],
    )

    chunks = list(export_profile(warehouse, sessions, SUBJECT))

    whole = b"".join(chunks)
    rows_per_chunk = max(chunk.count(b'"event_id"') for chunk in chunks)
    assert rows_per_chunk == EXPORT_BATCH_ROWS  # a batch at a time, never the whole history
    assert max(len(chunk) for chunk in chunks) < len(whole) / 2
    document = json.loads(whole)
    assert len(document["warehouse"]["raw.events"]) == 12000
