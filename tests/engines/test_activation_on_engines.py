"""The activation engine on DuckDB, ClickHouse and Snowflake: same plan, same messages.

One hand-made audience, written once in the DuckDB dialect and loaded into each engine, is
activated with an A/B test, a holdout and quiet hours into a real SMTP sink. Every engine
must exclude the same people for the same reasons, put each person in the arm the Python
twin of the assignment hash gives, defer the same recipient, send the same subjects, build
each member's attributes as the same JSON text, mirror the ledger into `tidemark.*`, and
see an unchanged segment as unchanged on the next run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from activation.experiments.assignment import arm_of
from connectors.ops_store import create_ops_engine, create_schema, ops_sessionmaker
from connectors.ops_store.engine import write_transaction
from connectors.ops_store.suppressions import suppress_immediately
from connectors.settings import Settings
from connectors.warehouse.base import Warehouse
from connectors.warehouse.factory import open_warehouse
from tests.activation.audience import PROFILE_COLUMNS
from tests.activation.conftest import define, make_engine
from tests.activation.experiments.test_engine_experiment import EXPERIMENT
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING, SmtpSink

pytestmark = pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)

# 23:00 UTC: inside quiet hours (21:00-08:00) in UTC, 10:00 the next morning in Sydney.
NOW = datetime(2026, 1, 15, 23, 0, tzinfo=UTC)
DAYTIME = "Australia/Sydney"
TRICKY_NAME = 'Zoë "Z" O\'Brien\\'
TRICKY_NOTE = "line one\nline\ttwo \x01 end"

SEGMENT_COLUMNS = (
    "profile_id varchar, email varchar, first_name varchar, note varchar, is_vip boolean, "
    "orders integer, lifetime_value decimal(18, 2), score double, signed_up_at timestamp"
)


def reachable(index: int) -> str:
    return f"r{index:03d}"


#: profile id -> (email, time zone, is_email_valid, consent, suppressed in the model)
PROFILES: dict[str, tuple[str, str, bool, str, bool]] = {
    **{
        reachable(i): (f"{reachable(i)}@example.com", DAYTIME, True, "granted", False)
        for i in range(24)
    },
    "night": ("night@example.com", "UTC", True, "granted", False),
    "invalid": ("not-an-address", DAYTIME, False, "granted", False),
    "no_consent": ("nc@example.com", DAYTIME, True, "withdrawn", False),
    "bounced": ("bounced@example.com", DAYTIME, True, "granted", True),
    "unsubscribed": ("Unsub@Example.com ", DAYTIME, True, "granted", False),
    "dup_a": ("shared@example.com", DAYTIME, True, "granted", False),
    "dup_b": ("SHARED@example.com", DAYTIME, True, "granted", False),
}
#: Excluded before any arm is drawn, whatever the hash says.
BLOCKED = {
    "invalid": "invalid_address",
    "no_consent": "no_consent",
    "bounced": "suppressed",
    "unsubscribed": "suppressed",  # a one-click unsubscribe in the ops store only
    "dup_b": "duplicate_address",  # same normalized address as dup_a, which sorts first
}


def load_audience(warehouse: Warehouse) -> None:
    """`analytics.profiles` and `analytics.segment_test`, every profile in the segment."""
    warehouse.execute("create schema if not exists analytics")
    warehouse.execute(f"create table analytics.profiles ({PROFILE_COLUMNS})")
    warehouse.execute(f"create table analytics.segment_test ({SEGMENT_COLUMNS})")
    for profile_id, (email, zone, valid, consent, suppressed) in PROFILES.items():
        warehouse.execute(
            "insert into analytics.profiles values (?, ?, null, ?, ?, ?, ?, 'never_asked', ?, "
            "false)",
            [profile_id, email, "Ann", zone, valid, consent, suppressed],
        )
    warehouse.execute(
        "insert into analytics.segment_test select profile_id, email, first_name, null, false, "
        "0, 0, 0, timestamp '2025-01-01 00:00:00' from analytics.profiles "
        "where profile_id <> 'r000'"
    )
    warehouse.execute(
        "insert into analytics.segment_test values "
        "('r000', 'r000@example.com', ?, ?, true, 3, 12.50, 1.5, "
        "timestamp '2025-12-01 10:30:00.25')",
        [TRICKY_NAME, TRICKY_NOTE],
    )


#: r000's attributes as every engine must write them: columns by name, typed, escaped.
R000_ATTRIBUTES = (
    '{"email":"r000@example.com","first_name":"Zo\u00eb \\"Z\\" O\'Brien\\\\",'
    '"is_vip":true,"lifetime_value":12.50,'
    '"note":"line one\\nline\\ttwo \\u0001 end","orders":3,"profile_id":"r000",'
    '"score":1.5,"signed_up_at":"2025-12-01 10:30:00.250000"}'
)

#: r000's row hash as every engine must compute it: each value as `<length>:<value>` (in
#: characters, text unescaped, other values as in the attributes) after the column names.
R000_HASHED_VALUES = (
    "r000@example.com",
    TRICKY_NAME,
    "true",
    "12.50",
    TRICKY_NOTE,
    "3",
    "r000",
    "1.5",
    '"2025-12-01 10:30:00.250000"',
)
R000_ROW_HASH = (
    "r2:"
    + hashlib.md5(
        (
            "email,first_name,is_vip,lifetime_value,note,orders,profile_id,score,signed_up_at|"
            + "".join(f"{len(value)}:{value}" for value in R000_HASHED_VALUES)
        ).encode()
    ).hexdigest()
)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture
def settings(any_settings: Settings, sink: SmtpSink) -> Settings:
    smtp = {"kind": "smtp", "config": {"host": sink.host, "port": sink.port, "starttls": False}}
    return Settings(**{**any_settings.model_dump(), "destinations": {"sink": smtp}})


@pytest.fixture
def sessions(settings: Settings) -> sessionmaker[Session]:
    engine = create_ops_engine(settings.ops_store_dsn)
    create_schema(engine)
    return ops_sessionmaker(engine)


def test_the_same_activation_plans_and_sends_the_same_on_every_engine(settings, sessions, sink):
    warehouse = open_warehouse(settings)
    load_audience(warehouse)
    with write_transaction(sessions) as session:
        suppress_immediately(
            session, channel="email", address="unsub@example.com", reason="one_click"
        )
    definition = define(
        sessions,
        experiment=EXPERIMENT,
        quiet_hours={"start": "21:00", "end": "08:00"},
        frequency_cap={"max_messages": 3, "window_hours": 24},
    )
    engine = make_engine(settings, warehouse, sessions, clock=lambda: NOW)

    report = engine.run("welcome", requested_by="test")

    eligible = [p for p in PROFILES if p not in BLOCKED]
    arms = {p: arm_of(definition.experiment, p) for p in eligible}
    held = {p for p, arm in arms.items() if arm == "holdout"}
    assert held and len(held) < len(eligible) / 2  # the draw means something
    assert report.plan is not None
    assert report.plan.excluded == {
        "invalid_address": 1,
        "no_consent": 1,
        "suppressed": 2,
        "duplicate_address": 1,
        "holdout": len(held),
    }
    sent_now = {p for p in eligible if p not in held and p != "night"}
    assert report.status == "deferred"  # 'night' waits for 08:00 in UTC
    assert report.plan.deferred == (0 if "night" in held else 1)
    assert report.counts == {"sent": len(sent_now), **({} if "night" in held else {"planned": 1})}

    subjects = {rcpt: mail.message["Subject"] for mail in sink.received for rcpt in mail.rcpt_tos}
    expected_subjects = {}
    for profile in sent_now:
        name = TRICKY_NAME if profile == "r000" else "Ann"
        wanted = (
            f"Welcome, {name}" if arms[profile] == "plain" else f"{name}, a little welcome gift"
        )
        expected_subjects[PROFILES[profile][0]] = wanted
    assert subjects == expected_subjects

    assigned = warehouse.query_arrow(
        "select profile_id, variant from tidemark.experiment_assignments"
    ).to_pylist()
    assert {r["profile_id"]: r["variant"] for r in assigned} == arms
    logged = warehouse.query_arrow(
        "select profile_id, variant, state from tidemark.message_log"
    ).to_pylist()
    assert {r["profile_id"]: (r["variant"], r["state"]) for r in logged} == {
        p: (arms[p], "sent" if p in sent_now else "planned") for p in eligible if p not in held
    }
    excluded = warehouse.query_arrow(
        "select profile_id, reason from tidemark.exclusions where is_final"
    ).to_pylist()
    assert {r["profile_id"]: r["reason"] for r in excluded} == {
        **BLOCKED,
        **dict.fromkeys(held, "holdout"),
    }
    run_row = warehouse.query_arrow(
        "select status, sent, excluded from tidemark.activation_runs"
    ).to_pylist()
    assert run_row == [
        {"status": report.status, "sent": len(sent_now), "excluded": len(BLOCKED) + len(held)}
    ]

    if "r000" not in held:
        planned = warehouse.query_arrow(
            "select attributes, row_hash from tidemark.planned_messages where profile_id = 'r000'"
        ).to_pylist()
        assert planned == [
            {
                "attributes": R000_ATTRIBUTES,
                "row_hash": R000_ROW_HASH,
            }
        ]
        assert json.loads(planned[0]["attributes"])["first_name"] == TRICKY_NAME

    # Nothing changed: the same rows hash the same, so no member handed over is planned
    # again (those excluded last time are not in the snapshot: they are 'added' again).
    again = engine.run("welcome", requested_by="test")
    assert again.plan is not None
    assert (again.plan.added, again.plan.changed) == (len(BLOCKED) + len(held), 0)

    # A changed value is a changed row: NULL to '' included.
    # (Rewritten by delete and insert: ClickHouse's MergeTree takes no plain UPDATE.)
    warehouse.execute("delete from analytics.segment_test where profile_id in ('r001', 'r002')")
    warehouse.execute(
        "insert into analytics.segment_test values "
        "('r001', 'r001@example.com', 'Ann', '', false, 0, 0, 0, timestamp '2025-01-01'), "
        "('r002', 'r002@example.com', 'Ann', null, false, 0, 0.01, 0, timestamp '2025-01-01')"
    )
    third = engine.run("welcome", requested_by="test")
    assert third.plan is not None
    changed_members = {"r001", "r002"} - held
    assert third.plan.changed == len(changed_members)
