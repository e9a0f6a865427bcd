"""Copy the ops store's audit trail into `tidemark.audit_log` for analysts.

The trail is append-only, so the copy is incremental by entry id. Ids are not always
committed in order (PostgreSQL sequences hand them out before commit), so each pass looks
back over the last `LOOKBACK` ids and adds only those the copy lacks: an entry committed
late is still copied, and nothing is ever copied twice. Snapshots (`before`/`after`) are
stored as JSON text; the entry's time is `changed_at` (`at` is an SQL keyword). Called
after every run's mirror, so the copy trails by at most a run.
"""

from __future__ import annotations

import json
from datetime import datetime

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from activation.warehouse_tables import SCHEMA
from connectors.ops_store.models import AuditEntry
from connectors.warehouse.base import Warehouse
from connectors.warehouse.bootstrap import ensure_tables

TABLE = "audit_log"
LOOKBACK = 1_000
BATCH = 10_000

DDL = [
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {SCHEMA}.{TABLE} (
        id bigint not null,
        changed_at timestamp not null,
        actor varchar not null,
        action varchar not null,
        resource_type varchar not null,
        resource_id varchar not null,
        before varchar,
        after varchar
    )""",
]

_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("changed_at", pa.timestamp("us")),
        ("actor", pa.string()),
        ("action", pa.string()),
        ("resource_type", pa.string()),
        ("resource_id", pa.string()),
        ("before", pa.string()),
        ("after", pa.string()),
    ]
)


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def _row(entry: AuditEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "changed_at": _naive(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "before": json.dumps(entry.before) if entry.before is not None else None,
        "after": json.dumps(entry.after) if entry.after is not None else None,
    }


def mirror_audit(sessions: sessionmaker[Session], warehouse: Warehouse) -> int:
    """Add the audit entries the warehouse copy lacks; returns how many were added."""
    added = 0
    with warehouse.session() as wh:
        ensure_tables(wh, SCHEMA, [TABLE], DDL)
        newest = int(wh.scalar(f"select coalesce(max(id), 0) from {SCHEMA}.{TABLE}"))
        since = max(newest - LOOKBACK, 0)
        present = set(
            wh.query_arrow(f"select id from {SCHEMA}.{TABLE} where id > ?", [since])
            .column("id")
            .to_pylist()
        )
        with sessions() as session:
            entries = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.id > since)
                .order_by(AuditEntry.id)
                .execution_options(yield_per=BATCH)
            )
            for partition in entries.partitions():
                rows = [_row(e) for e in partition if e.id not in present]
                if rows:
                    added += wh.insert_arrow(
                        f"{SCHEMA}.{TABLE}", pa.Table.from_pylist(rows, schema=_SCHEMA)
                    )
    return added
