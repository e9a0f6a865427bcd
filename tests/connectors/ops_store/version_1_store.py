"""An ops store as an older Tidemark left it: schema version 1, from before `deferred` runs.

Built from the DDL that version's models emitted (captured in `schema_v1_before_deferred/`),
with a few rows of the kinds a store in use holds, so an upgrade can be checked for what it
keeps as well as what it changes.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from connectors.ops_store import create_ops_engine

DDL_FOLDER = Path(__file__).parent / "schema_v1_before_deferred"
OLD_RUN_ID = "run-from-version-1"


def create_version_1_store(dsn: str) -> None:
    """Create the version-1 tables at `dsn` and fill them as a store in use would be."""
    engine = create_ops_engine(dsn)
    lines = (DDL_FOLDER / f"{engine.dialect.name}.sql").read_text().splitlines()
    ddl = "\n".join(line for line in lines if not line.startswith("--"))
    statements = [statement for statement in ddl.split(";\n") if statement.strip()]
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
            connection.execute(
                text(
                    "insert into schema_version (id, version, applied_at) "
                    "values (1, 1, '2026-11-01 08:00:00+00')"
                )
            )
            connection.execute(
                text(
                    "insert into activation_runs (run_id, activation, kind, status, requested_by, "
                    "started_at, finished_at, updated_at) values (:run_id, 'welcome', 'run', "
                    "'completed', 'ana', '2026-11-01 09:00:00+00', '2026-11-01 09:05:00+00', "
                    "'2026-11-01 09:05:00+00')"
                ),
                {"run_id": OLD_RUN_ID},
            )
            connection.execute(
                text(
                    "insert into api_tokens (name, role, token_hash, created_at) "
                    "values ('old admin', 'admin', :hash, '2026-11-01 08:00:00+00')"
                ),
                {"hash": "a" * 64},
            )
    finally:
        engine.dispose()
