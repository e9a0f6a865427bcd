"""Schema migrations: a store from an older Tidemark is upgraded in place, on both engines.

The upgraded store must be what today's models describe (tables, columns, indexes, unique
and CHECK constraints) and keep every row it had; a fresh store built by the migrations
must be the same.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, Engine, insert, inspect, select
from sqlalchemy.orm import Session

from connectors.ops_store import (
    SCHEMA_VERSION,
    ApiToken,
    Base,
    create_ops_engine,
    create_schema,
    schema_version,
)
from connectors.ops_store.delivery_models import ActivationRun, RunStatus
from connectors.ops_store.runs import create_run
from connectors.ops_store.schema import migration_config
from connectors.ops_store.source_cursors import SourceCursor
from tests.connectors.ops_store.version_1_store import OLD_RUN_ID, create_version_1_store

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def allowed_values(sql: str) -> set[str]:
    """The quoted values a CHECK's `IN (...)` admits, however the engine spells the list."""
    return set(re.findall(r"'([^']*)'", sql))


def model_checks() -> dict[tuple[str, str], set[str]]:
    """Every CHECK the models declare, by (table, name), with the values it admits."""
    checks = {}
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            if (
                isinstance(constraint, CheckConstraint)
                and constraint.name != "ck_schema_version_single_row"
            ):
                assert isinstance(constraint.name, str)
                sql = constraint.sqltext.compile(compile_kwargs={"literal_binds": True})
                checks[(table.name, constraint.name)] = allowed_values(str(sql))
    return checks


def database_checks(engine: Engine) -> dict[tuple[str, str], set[str]]:
    inspector = inspect(engine)
    return {
        (table, check["name"]): allowed_values(check["sqltext"])
        for table in inspector.get_table_names()
        for check in inspector.get_check_constraints(table)
        if check["name"] != "ck_schema_version_single_row"
    }


def differences_from_models(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [
            difference
            for difference in compare_metadata(context, Base.metadata)
            if not (difference[0] == "remove_table" and difference[1].name == "alembic_version")
        ]


def test_the_newest_revision_is_the_schema_version() -> None:
    head = ScriptDirectory.from_config(migration_config()).get_current_head()
    assert head == f"{SCHEMA_VERSION:04d}"


def test_a_version_1_store_is_upgraded_to_the_models_keeping_its_rows(ops_dsn: str) -> None:
    create_version_1_store(ops_dsn)
    engine = create_ops_engine(ops_dsn)
    try:
        assert schema_version(engine) == 1
        assert "erasure_requests" not in inspect(engine).get_table_names()
        assert database_checks(engine) != model_checks()  # 'deferred' is refused

        assert create_schema(engine) == SCHEMA_VERSION

        assert schema_version(engine) == SCHEMA_VERSION
        assert differences_from_models(engine) == []
        assert database_checks(engine) == model_checks()
        with Session(engine) as session:
            old_run = session.get(ActivationRun, OLD_RUN_ID)
            assert old_run is not None and old_run.status is RunStatus.COMPLETED
            assert session.scalars(select(ApiToken.name)).all() == ["old admin"]
            # What the version-1 CHECK refused.
            create_run(
                session,
                run_id="new",
                activation="welcome",
                kind="run",
                requested_by="ana",
                now=NOW,
                status=RunStatus.DEFERRED,
            )
            session.commit()
        assert create_schema(engine) == SCHEMA_VERSION  # the next start-up changes nothing
    finally:
        engine.dispose()


def test_a_fresh_store_built_by_the_migrations_is_what_the_models_describe(ops_dsn: str) -> None:
    engine = create_ops_engine(ops_dsn)
    try:
        assert create_schema(engine) == SCHEMA_VERSION
        assert differences_from_models(engine) == []
        assert database_checks(engine) == model_checks()
    finally:
        engine.dispose()


def test_every_revision_can_be_undone_and_redone(ops_dsn: str) -> None:
    engine = create_ops_engine(ops_dsn)
    try:
        create_schema(engine)
        with engine.begin() as connection:
            config = migration_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
            command.upgrade(config, "head")
        assert differences_from_models(engine) == []
        assert database_checks(engine) == model_checks()
    finally:
        engine.dispose()


def test_cursors_a_shopify_sync_saved_before_revision_6_survive_the_upgrade(ops_dsn: str) -> None:
    # Before revision 0006 the Shopify sync created `source_cursors` itself on first use.
    engine = create_ops_engine(ops_dsn)
    saved = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    try:
        with engine.begin() as connection:
            config = migration_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "0005")
            SourceCursor.__table__.create(connection)  # type: ignore[attr-defined]
            connection.execute(
                insert(SourceCursor).values(
                    source="shopify:demo", stream="orders", position=saved, updated_at=saved
                )
            )

        assert create_schema(engine) == SCHEMA_VERSION

        assert differences_from_models(engine) == []
        with Session(engine) as session:
            cursor = session.get(SourceCursor, ("shopify:demo", "orders"))
            assert cursor is not None and cursor.position == saved
    finally:
        engine.dispose()
