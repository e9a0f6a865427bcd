"""The ops store against real engines: a SQLite file and a PostgreSQL database.

Every behaviour runs on both engines (the `ops_dsn` fixture), because code developed on the
SQLite default must keep its guarantees unchanged on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, func, inspect, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from connectors.ops_store import (
    SCHEMA_VERSION,
    AuditEntry,
    Base,
    IllegalTransitionError,
    ImmediateSuppression,
    RequestConflictError,
    RequestKind,
    RequestNotFoundError,
    RequestStatus,
    SchemaVersion,
    SchemaVersionError,
    TokenNotFoundError,
    TokenRole,
    address_hash,
    claim_pending_requests,
    create_ops_engine,
    create_schema,
    create_token,
    enqueue_request,
    get_request,
    is_suppressed,
    list_audit,
    list_requests,
    list_tokens,
    mark_request,
    note_token_use,
    ops_sessionmaker,
    ops_store_url,
    record_audit,
    revoke_token,
    schema_version,
    suppress_immediately,
    suppressed_addresses,
    use_needs_noting,
    verify_token,
)

T = TypeVar("T")
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(ops_dsn: str) -> Iterator[Engine]:
    engine = create_ops_engine(ops_dsn)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return ops_sessionmaker(engine)


def run_in_threads(*jobs: Callable[[], T]) -> list[T]:
    """Run each job in its own thread, all released at the same instant; return results."""
    gate = threading.Barrier(len(jobs))

    def released(job: Callable[[], T]) -> T:
        gate.wait(timeout=10)
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(released, job) for job in jobs]
        return [future.result(timeout=60) for future in futures]


def enqueue_many(sessions: sessionmaker[Session], count: int) -> list[str]:
    with sessions.begin() as session:
        for n in range(count):
            enqueue_request(
                session,
                activation_name="welcome",
                requested_by="ana",
                request_id=f"req-{n:03d}",
                now=START + timedelta(seconds=n),
            )
    return [f"req-{n:03d}" for n in range(count)]


def database_text(engine: Engine) -> str:
    """Every value of every ops store table, as text: what a stolen copy would reveal."""
    chunks = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                chunks.append(" ".join(str(value) for value in row))
    return "\n".join(chunks)


# --- engine -----------------------------------------------------------------------------


def test_sqlite_engine_is_set_up_for_concurrent_writers(tmp_path: Path) -> None:
    path = tmp_path / "not" / "there" / "ops.sqlite"
    engine = create_ops_engine(f"sqlite:///{path}", sqlite_busy_timeout_s=2.5)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
        assert path.is_file()
    finally:
        engine.dispose()


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_postgres_urls_use_psycopg3(scheme: str) -> None:
    url = ops_store_url(f"{scheme}://tidemark:pw@db.internal:5432/ops")
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.database) == ("db.internal", "ops")


@pytest.mark.postgres
def test_postgres_scheme_from_heroku_style_urls_connects(postgres_url: str) -> None:
    bare = postgres_url.replace("postgresql://", "postgres://", 1)
    engine = create_ops_engine(bare)
    try:
        assert create_schema(engine) == SCHEMA_VERSION
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


def test_unsupported_url_is_refused_without_echoing_the_password() -> None:
    with pytest.raises(ValueError, match="'mysql'") as refused:
        create_ops_engine("mysql://tidemark:hunter2@db.internal/ops")
    assert "hunter2" not in str(refused.value)
    with pytest.raises(ValueError, match="not a valid database URL") as garbage:
        create_ops_engine("::hunter2::")
    assert "hunter2" not in str(garbage.value)


def test_in_memory_sqlite_is_one_database_for_every_connection() -> None:
    engine = create_ops_engine("sqlite://")
    try:
        create_schema(engine)
        with ops_sessionmaker(engine).begin() as session:
            enqueue_request(session, activation_name="welcome", requested_by="ana", request_id="a")
        with ops_sessionmaker(engine)() as session:
            assert get_request(session, "a") is not None
    finally:
        engine.dispose()


# --- schema -----------------------------------------------------------------------------


def test_create_schema_is_idempotent_and_records_its_version(engine: Engine) -> None:
    assert create_schema(engine) == SCHEMA_VERSION  # second call: the fixture made the first
    assert schema_version(engine) == SCHEMA_VERSION
    tables = set(inspect(engine).get_table_names())
    assert {
        "audit_log",
        "activation_requests",
        "api_tokens",
        "immediate_suppressions",
        "schema_version",
    } <= tables
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(SchemaVersion)).scalar() == 1


def test_schema_version_is_none_before_creation(ops_dsn: str) -> None:
    engine = create_ops_engine(ops_dsn)
    try:
        assert schema_version(engine) is None
    finally:
        engine.dispose()


def test_concurrent_create_schema_calls_both_succeed(ops_dsn: str) -> None:
    def start_up() -> int:
        engine = create_ops_engine(ops_dsn)
        try:
            return create_schema(engine)
        finally:
            engine.dispose()

    assert run_in_threads(start_up, start_up) == [SCHEMA_VERSION, SCHEMA_VERSION]


def test_a_database_from_a_newer_tidemark_is_refused(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(update(SchemaVersion).values(version=SCHEMA_VERSION + 1))
    with pytest.raises(SchemaVersionError, match="newer than this Tidemark"):
        create_schema(engine)


def test_timestamps_come_back_as_utc_whatever_zone_went_in(
    sessions: sessionmaker[Session],
) -> None:
    paris = timezone(timedelta(hours=1))
    with sessions.begin() as session:
        enqueue_request(
            session,
            activation_name="welcome",
            requested_by="ana",
            request_id="tz",
            now=datetime(2025, 3, 1, 10, 30, tzinfo=paris),
        )
    with sessions() as session:
        request = get_request(session, "tz")
        assert request is not None
        assert request.requested_at == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
        assert request.requested_at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, pytest.raises(Exception, match="naive datetime"):
        enqueue_request(
            session,
            activation_name="welcome",
            requested_by="ana",
            now=datetime(2025, 3, 1, 10, 30),  # naive on purpose
        )


# --- audit ------------------------------------------------------------------------------


def test_audit_entries_are_appended_and_listed_newest_first(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        record_audit(
            session,
            actor="admin:ana",
            action="destination.create",
            resource_type="destination",
            resource_id="ses-main",
            before=None,
            after={"kind": "ses", "rate_limit": 14, "region": "eu-west-1"},
        )
        record_audit(
            session,
            actor="admin:bo",
            action="destination.update",
            resource_type="destination",
            resource_id="ses-main",
            before={"kind": "ses", "rate_limit": 14, "region": "eu-west-1"},
            after={"kind": "ses", "rate_limit": 50, "region": "eu-west-1"},
        )
        record_audit(
            session,
            actor="admin:ana",
            action="token.create",
            resource_type="api_token",
            resource_id="7",
            before=None,
            after={"name": "ci", "role": "viewer"},
        )

    with sessions() as session:
        everything = list_audit(session)
        assert [e.action for e in everything] == [
            "token.create",
            "destination.update",
            "destination.create",
        ]
        history = list_audit(session, resource_type="destination", resource_id="ses-main")
        assert [e.actor for e in history] == ["admin:bo", "admin:ana"]
        assert history[0].before == {"kind": "ses", "rate_limit": 14, "region": "eu-west-1"}
        assert history[0].after == {"kind": "ses", "rate_limit": 50, "region": "eu-west-1"}
        assert history[1].before is None
        assert all(e.at.tzinfo is not None and e.at.utcoffset() == timedelta(0) for e in history)
        assert [e.action for e in list_audit(session, actor="admin:bo")] == ["destination.update"]
        assert len(list_audit(session, limit=1)) == 1
        assert list_audit(session, since=datetime.now(UTC) + timedelta(hours=1)) == []


def test_audit_entries_cannot_be_changed_or_deleted(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        entry = record_audit(
            session,
            actor="admin:ana",
            action="token.revoke",
            resource_type="api_token",
            resource_id="3",
            before={"revoked": False},
            after={"revoked": True},
        )
        entry_id = entry.id

    with sessions() as session:
        stored = session.get(AuditEntry, entry_id)
        assert stored is not None
        stored.actor = "someone-else"
        with pytest.raises(PermissionError, match="append-only"):
            session.flush()
        session.rollback()
        stored = session.get(AuditEntry, entry_id)
        session.delete(stored)
        with pytest.raises(PermissionError, match="append-only"):
            session.flush()
        session.rollback()
        assert [e.actor for e in list_audit(session)] == ["admin:ana"]


def test_audit_refuses_what_it_cannot_store(sessions: sessionmaker[Session]) -> None:
    entry: dict[str, Any] = {
        "actor": "admin:ana",
        "action": "activation.request",
        "resource_type": "activation",
        "resource_id": "welcome",
        "before": None,
    }
    with sessions() as session:
        with pytest.raises(ValueError, match=r"audit after of activation/welcome is not valid"):
            record_audit(session, **entry, after={"when": datetime.now(UTC)})
        with pytest.raises(ValueError, match="non-empty actor"):
            record_audit(session, **{**entry, "actor": " "}, after=None)
        assert list_audit(session) == []


# --- activation requests ----------------------------------------------------------------


def test_enqueue_is_idempotent_by_request_id(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = enqueue_request(
            session,
            activation_name="welcome",
            requested_by="ana",
            kind="dry_run",
            request_id="click-1",
            now=START,
        )
    with sessions.begin() as session:
        again = enqueue_request(
            session,
            activation_name="welcome",
            requested_by="ana",
            kind=RequestKind.DRY_RUN,
            request_id="click-1",
            now=START + timedelta(minutes=5),
        )
    assert again.request_id == first.request_id
    assert again.requested_at == START  # the existing row, not a new one
    assert again.status is RequestStatus.PENDING
    with sessions() as session:
        assert [r.request_id for r in list_requests(session)] == ["click-1"]


def test_concurrent_enqueues_of_one_id_make_one_request(ops_dsn: str, engine: Engine) -> None:
    def click() -> str:
        own_engine = create_ops_engine(ops_dsn)
        try:
            with ops_sessionmaker(own_engine).begin() as session:
                request = enqueue_request(
                    session, activation_name="welcome", requested_by="ana", request_id="dbl"
                )
                return request.request_id
        finally:
            own_engine.dispose()

    assert run_in_threads(click, click) == ["dbl", "dbl"]
    with ops_sessionmaker(engine)() as session:
        assert [r.request_id for r in list_requests(session)] == ["dbl"]


def test_reusing_a_request_id_for_another_request_is_refused(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        enqueue_request(session, activation_name="welcome", requested_by="ana", request_id="r1")
    with sessions() as session, pytest.raises(RequestConflictError, match="'r1' is already used"):
        enqueue_request(session, activation_name="winback", requested_by="ana", request_id="r1")


def test_enqueue_refuses_bad_input_clearly(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        with pytest.raises(ValueError, match=r"unknown request kind 'rerun'.*run, dry_run"):
            enqueue_request(session, activation_name="welcome", requested_by="ana", kind="rerun")
        with pytest.raises(ValueError, match="limit is 100"):
            enqueue_request(
                session, activation_name="welcome", requested_by="ana", request_id="x" * 101
            )
        with pytest.raises(ValueError, match="non-empty activation_name"):
            enqueue_request(session, activation_name="", requested_by="ana")


def test_generated_request_ids_are_unique(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = enqueue_request(session, activation_name="welcome", requested_by="ana")
        second = enqueue_request(session, activation_name="welcome", requested_by="ana")
    assert first.request_id != second.request_id


def test_claim_takes_the_oldest_pending_and_marks_them_launched(
    sessions: sessionmaker[Session],
) -> None:
    ids = enqueue_many(sessions, 5)
    with sessions() as session:
        mark_request(session, ids[0], "skipped", reason="activation paused")
        session.commit()
        claimed = claim_pending_requests(session, 2, now=START + timedelta(hours=1))
        session.commit()
    assert [r.request_id for r in claimed] == ids[1:3]
    with sessions() as session:
        statuses = {r.request_id: r.status for r in list_requests(session)}
        stored = get_request(session, ids[1])
    assert statuses == {
        ids[0]: RequestStatus.SKIPPED,
        ids[1]: RequestStatus.LAUNCHED,
        ids[2]: RequestStatus.LAUNCHED,
        ids[3]: RequestStatus.PENDING,
        ids[4]: RequestStatus.PENDING,
    }
    assert stored is not None and stored.updated_at == START + timedelta(hours=1)


def test_a_rolled_back_claim_leaves_the_requests_pending(sessions: sessionmaker[Session]) -> None:
    ids = enqueue_many(sessions, 2)
    with sessions() as session:
        assert len(claim_pending_requests(session, 10)) == 2
        session.rollback()  # e.g. launching the runs failed
    with sessions() as session:
        assert [r.request_id for r in claim_pending_requests(session, 10)] == ids


def test_two_concurrent_claimers_never_claim_the_same_request(
    ops_dsn: str, sessions: sessionmaker[Session]
) -> None:
    ids = enqueue_many(sessions, 40)

    def claimer() -> list[str]:
        own_engine = create_ops_engine(ops_dsn)
        mine: list[str] = []
        try:
            own_sessions = ops_sessionmaker(own_engine)
            while True:
                with own_sessions() as session:
                    batch = claim_pending_requests(session, 3)
                    session.commit()
                if not batch:
                    return mine
                mine.extend(r.request_id for r in batch)
        finally:
            own_engine.dispose()

    first, second = run_in_threads(claimer, claimer)
    assert not set(first) & set(second)
    assert sorted(first + second) == ids
    assert len(first) + len(second) == len(ids)  # nobody claimed anything twice


def test_a_claim_in_progress_hides_its_requests_from_another_claimer(
    ops_dsn: str, sessions: sessionmaker[Session]
) -> None:
    ids = enqueue_many(sessions, 6)
    held = sessions()
    first = [r.request_id for r in claim_pending_requests(held, 3)]  # not committed yet

    def second_claimer() -> list[str]:
        own_engine = create_ops_engine(ops_dsn)
        try:
            with ops_sessionmaker(own_engine)() as session:
                claimed = [r.request_id for r in claim_pending_requests(session, 10)]
                session.commit()
                return claimed
        finally:
            own_engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        second = pool.submit(second_claimer)
        held.commit()  # on SQLite the second claimer waits for this; on PostgreSQL it need not
        held.close()
        assert first == ids[:3]
        assert second.result(timeout=30) == ids[3:]


@pytest.mark.postgres
def test_postgres_claimers_skip_locked_rows_without_waiting(postgres_url: str) -> None:
    engine = create_ops_engine(postgres_url)
    other_engine = create_ops_engine(postgres_url)
    try:
        create_schema(engine)
        sessions = ops_sessionmaker(engine)
        ids = enqueue_many(sessions, 4)
        with sessions() as held:
            assert [r.request_id for r in claim_pending_requests(held, 2)] == ids[:2]
            # While the first claim is still open, a second claimer gets the rest at once.
            with ops_sessionmaker(other_engine)() as other:
                other.execute(text("SET LOCAL lock_timeout = '2s'"))
                assert [r.request_id for r in claim_pending_requests(other, 10)] == ids[2:]
                other.commit()
            held.commit()
    finally:
        engine.dispose()
        other_engine.dispose()


def test_sqlite_claims_take_turns_under_the_write_lock(tmp_path: Path) -> None:
    dsn = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    engine = create_ops_engine(dsn)
    impatient = create_ops_engine(dsn, sqlite_busy_timeout_s=0.05)
    try:
        create_schema(engine)
        sessions = ops_sessionmaker(engine)
        ids = enqueue_many(sessions, 4)
        with sessions() as held:
            assert len(claim_pending_requests(held, 2)) == 2
            with (
                ops_sessionmaker(impatient)() as other,
                pytest.raises(OperationalError, match="database is locked"),
            ):
                claim_pending_requests(other, 10)
            held.commit()
        with ops_sessionmaker(impatient)() as other:
            assert [r.request_id for r in claim_pending_requests(other, 10)] == ids[2:]
            other.commit()
    finally:
        engine.dispose()
        impatient.dispose()


def test_sqlite_claim_refuses_a_session_already_in_a_transaction(tmp_path: Path) -> None:
    engine = create_ops_engine(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    try:
        create_schema(engine)
        with ops_sessionmaker(engine)() as session:
            list_requests(session)  # starts a (deferred) transaction
            with pytest.raises(RuntimeError, match="must begin its own transaction"):
                claim_pending_requests(session, 1)
    finally:
        engine.dispose()


def test_requests_follow_their_lifecycle(sessions: sessionmaker[Session]) -> None:
    (request_id,) = enqueue_many(sessions, 1)
    with sessions() as session:
        claim_pending_requests(session, 1)
        session.commit()
        done = mark_request(session, request_id, RequestStatus.DONE, reason="sent 1204")
        again = mark_request(session, request_id, "done")  # a retried report changes nothing
        session.commit()
    assert done.status is RequestStatus.DONE
    assert again.status_reason == "sent 1204"


def test_an_illegal_transition_is_refused_with_a_clear_message(
    sessions: sessionmaker[Session],
) -> None:
    (request_id,) = enqueue_many(sessions, 1)
    with sessions() as session:
        with pytest.raises(
            IllegalTransitionError,
            match=r"'req-000' cannot go from pending to done: from pending it can only go to "
            r"failed, launched, skipped",
        ):
            mark_request(session, request_id, "done")
        mark_request(session, request_id, "failed", reason="activation deleted")
        session.commit()
        with pytest.raises(
            IllegalTransitionError, match="from failed to launched: failed is final"
        ):
            mark_request(session, request_id, "launched")
        with pytest.raises(ValueError, match="unknown status 'finished'"):
            mark_request(session, request_id, "finished")
        with pytest.raises(RequestNotFoundError, match="'nope'"):
            mark_request(session, "nope", "done")
    with sessions() as session:
        stored = get_request(session, request_id)
        assert stored is not None and stored.status is RequestStatus.FAILED


def test_request_status_is_stored_as_readable_text(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    enqueue_many(sessions, 1)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT kind, status FROM activation_requests")).one()
    assert tuple(row) == ("run", "pending")


# --- tokens -----------------------------------------------------------------------------


def test_tokens_are_stored_hashed_and_never_in_plaintext(
    ops_dsn: str, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        issued = create_token(session, name="ci", role="marketer")
    assert issued.plaintext.startswith("tdm_")
    assert issued.plaintext not in repr(issued)
    assert issued.plaintext not in database_text(engine)
    with sessions() as session:
        (stored,) = list_tokens(session)
        assert stored.token_hash != issued.plaintext and len(stored.token_hash) == 64
    if ops_dsn.startswith("sqlite"):
        engine.dispose()  # checkpoint the WAL so the file holds everything written
        db_file = Path(ops_dsn.removeprefix("sqlite:///"))
        for path in db_file.parent.glob(db_file.name + "*"):
            assert issued.plaintext.encode() not in path.read_bytes()


def test_verify_accepts_live_tokens_only(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        issued = create_token(session, name="dashboard", role=TokenRole.VIEWER, now=START)
        other = create_token(session, name="admin", role="admin", now=START)
    used_at = START + timedelta(days=1)
    with sessions.begin() as session:
        token = verify_token(session, issued.plaintext)
        assert token is not None and token.role is TokenRole.VIEWER and token.name == "dashboard"
        assert verify_token(session, issued.plaintext + "x") is None
        assert verify_token(session, "not-a-token") is None
        assert use_needs_noting(token, now=used_at)
        assert note_token_use(session, token.id, now=used_at)
    with sessions.begin() as session:
        # A second use within the minute does not rewrite last_used_at.
        later = used_at + timedelta(seconds=30)
        assert not note_token_use(session, issued.token.id, now=later)
        token = verify_token(session, issued.plaintext)
        assert token is not None and token.last_used_at == used_at
        assert not use_needs_noting(token, now=later)
        revoke_token(session, issued.token.id, now=used_at + timedelta(hours=1))
    with sessions() as session:
        assert verify_token(session, issued.plaintext) is None
        assert verify_token(session, other.plaintext) is not None
        assert [t.name for t in list_tokens(session)] == ["dashboard", "admin"]
        assert [t.name for t in list_tokens(session, include_revoked=False)] == ["admin"]


def test_revoking_twice_keeps_the_first_revocation(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        issued = create_token(session, name="ci", role="viewer")
        revoke_token(session, issued.token.id, now=START)
        again = revoke_token(session, issued.token.id, now=START + timedelta(days=2))
    assert again.revoked_at == START
    with sessions() as session, pytest.raises(TokenNotFoundError, match="id 999"):
        revoke_token(session, 999)


def test_token_roles_are_checked(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, pytest.raises(ValueError, match="unknown token role 'root'"):
        create_token(session, name="ci", role="root")


# --- immediate suppressions -------------------------------------------------------------


def test_suppression_is_immediate_idempotent_and_keeps_no_address(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        first = suppress_immediately(
            session, channel="email", address="Ana@Example.com", reason="one-click unsubscribe"
        )
        again = suppress_immediately(
            session, channel="email", address=" ana@example.com ", reason="complaint"
        )
        suppress_immediately(
            session, channel="sms", address="+1 (415) 555-0100", reason="STOP reply"
        )
    assert again.id == first.id and again.reason == "one-click unsubscribe"
    with sessions() as session:
        assert is_suppressed(session, "email", "ANA@example.COM")
        assert is_suppressed(session, "sms", "+14155550100")
        assert not is_suppressed(session, "email", "bo@example.com")
        assert suppressed_addresses(
            session, "email", ["bo@example.com", "ana@example.com", "Ana@example.com"]
        ) == {"ana@example.com", "Ana@example.com"}
        assert session.scalar(select(func.count()).select_from(ImmediateSuppression)) == 2
    stored = database_text(engine)
    assert "ana@example.com" not in stored.lower()
    assert address_hash("email", "ana@example.com") in stored


def test_suppression_refuses_malformed_addresses(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        with pytest.raises(ValueError, match="containing '@'"):
            suppress_immediately(session, channel="email", address="ana", reason="unsubscribe")
        with pytest.raises(ValueError, match="made of digits"):
            suppress_immediately(session, channel="sms", address="call me", reason="STOP")
        with pytest.raises(ValueError, match="unknown suppression channel 'fax'"):
            suppress_immediately(session, channel="fax", address="123", reason="STOP")


def test_activation_request_rows_map_to_the_documented_table(engine: Engine) -> None:
    columns = {c["name"] for c in inspect(engine).get_columns("activation_requests")}
    assert columns == {
        "request_id",
        "activation_name",
        "requested_by",
        "requested_at",
        "kind",
        "status",
        "status_reason",
        "updated_at",
        "run_id",
    }


def test_an_approval_names_its_run_and_stays_open_until_carried_out(
    sessions: sessionmaker[Session],
) -> None:
    from connectors.ops_store.activation_requests import open_approval

    with sessions.begin() as session:
        with pytest.raises(ValueError, match="names the run it approves"):
            enqueue_request(session, activation_name="welcome", requested_by="ana", kind="approve")
        with pytest.raises(ValueError, match="names the run it approves"):
            enqueue_request(session, activation_name="welcome", requested_by="ana", run_id="r1")
        approval = enqueue_request(
            session, activation_name="welcome", requested_by="ana", kind="approve", run_id="r1"
        )
    with sessions.begin() as session:
        found = open_approval(session, "r1")
        assert found is not None and found.request_id == approval.request_id
        assert open_approval(session, "r2") is None
    with sessions() as session:
        [claimed] = claim_pending_requests(session, 5)
        assert (claimed.kind, claimed.run_id) == (RequestKind.APPROVE, "r1")
        session.commit()
    with sessions.begin() as session:
        assert open_approval(session, "r1") is not None  # launched: still on its way
        mark_request(session, approval.request_id, RequestStatus.DONE)
    with sessions.begin() as session:
        assert open_approval(session, "r1") is None
