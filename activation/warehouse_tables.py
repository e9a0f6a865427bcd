"""The engine's own tables in the warehouse (`tidemark.*`), documented for analysts.

- `activation_runs`: one row per run, with its counts and timings.
- `planned_messages`: one row per message a run planned (the plan, before the outbox).
- `exclusions`: one row per member a run did not message, with the reason; deferrals (by
  quiet hours, `quiet_hours_deferred`, or waiting for the recommended send time,
  `send_time_deferred`) are here too, with `is_final = false`, and the message stays planned.
- `message_log`: one row per planned message and its latest state, mirrored from the
  ops store's outbox (the ledger), so analysts never need the ops store.
- `activation_snapshots`: per activation, the members (and their row hashes) already
  handed to the destination; the next run's diff is taken against it.
- `immediate_suppressions`: the ops store's one-click unsubscribes (hashed addresses),
  copied in before each plan so the plan sees them.
"""

from __future__ import annotations

from connectors.warehouse.base import WarehouseSession
from connectors.warehouse.bootstrap import ensure_tables

SCHEMA = "tidemark"

DDL = [
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {SCHEMA}.activation_runs (
        run_id varchar not null,
        activation varchar not null,
        kind varchar not null,
        mode varchar not null,
        status varchar not null,
        members integer,
        added integer,
        changed integer,
        removed integer,
        planned integer,
        excluded integer,
        deferred integer,
        sent integer,
        failed integer,
        in_doubt integer,
        pending integer,
        error varchar,
        started_at timestamp not null,
        planned_at timestamp,
        finished_at timestamp,
        updated_at timestamp not null
    )""",
    f"""create table if not exists {SCHEMA}.planned_messages (
        run_id varchar not null,
        activation varchar not null,
        message_id varchar not null,
        profile_id varchar not null,
        change varchar not null,
        channel varchar not null,
        address varchar not null,
        variant varchar not null,
        send_after timestamp not null,
        row_hash varchar not null,
        attributes varchar not null,
        planned_at timestamp not null
    )""",
    f"""create table if not exists {SCHEMA}.exclusions (
        run_id varchar not null,
        activation varchar not null,
        profile_id varchar not null,
        channel varchar not null,
        address varchar,
        reason varchar not null,
        is_final boolean not null,
        excluded_at timestamp not null
    )""",
    f"""create table if not exists {SCHEMA}.message_log (
        message_id varchar not null,
        run_id varchar not null,
        activation varchar not null,
        profile_id varchar not null,
        channel varchar not null,
        address varchar not null,
        variant varchar not null,
        state varchar not null,
        attempts integer not null,
        provider varchar,
        provider_message_id varchar,
        error_class varchar,
        error_code varchar,
        error_message varchar,
        send_after timestamp not null,
        planned_at timestamp not null,
        sent_at timestamp,
        updated_at timestamp not null
    )""",
    f"""create table if not exists {SCHEMA}.activation_snapshots (
        activation varchar not null,
        profile_id varchar not null,
        row_hash varchar not null,
        snapshot_at timestamp not null
    )""",
    f"""create table if not exists {SCHEMA}.immediate_suppressions (
        channel varchar not null,
        address_hash varchar not null
    )""",
]


TABLES = [
    "activation_runs",
    "planned_messages",
    "exclusions",
    "message_log",
    "activation_snapshots",
    "immediate_suppressions",
]


def ensure_engine_tables(session: WarehouseSession) -> None:
    """Create the `tidemark` schema and tables when any is missing."""
    ensure_tables(session, SCHEMA, TABLES, DDL)
