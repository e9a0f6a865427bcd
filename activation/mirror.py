"""Copy a run's record and its ledger from the ops store into the warehouse for analysts.

The ops store is the source of truth while a run is live; `tidemark.activation_runs` and
`tidemark.message_log` are its documented, queryable copies, replaced per run (delete, then
insert), so mirroring again is always safe.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from activation.audit_mirror import mirror_audit
from activation.run_counts import run_counts
from activation.warehouse_tables import SCHEMA, ensure_engine_tables
from connectors.ops_store.delivery_models import ActivationRun, OutboxMessage
from connectors.ops_store.outbox import state_counts
from connectors.warehouse.base import Warehouse

MIRROR_BATCH = 50_000

_TIMESTAMP = pa.timestamp("us")
LOG_SCHEMA = pa.schema(
    [
        ("message_id", pa.string()),
        ("run_id", pa.string()),
        ("activation", pa.string()),
        ("profile_id", pa.string()),
        ("channel", pa.string()),
        ("address", pa.string()),
        ("variant", pa.string()),
        ("state", pa.string()),
        ("attempts", pa.int32()),
        ("provider", pa.string()),
        ("provider_message_id", pa.string()),
        ("error_class", pa.string()),
        ("error_code", pa.string()),
        ("error_message", pa.string()),
        ("send_after", _TIMESTAMP),
        ("planned_at", _TIMESTAMP),
        ("sent_at", _TIMESTAMP),
        ("updated_at", _TIMESTAMP),
    ]
)
_LOG_COLUMNS = LOG_SCHEMA.names
_TIMESTAMP_COLUMNS = ("send_after", "planned_at", "sent_at", "updated_at")


def _naive(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=None) if moment is not None else None


def _log_batches(sessions: sessionmaker[Session], run_id: str) -> Iterator[pa.Table]:
    columns = [getattr(OutboxMessage, name) for name in _LOG_COLUMNS]
    with sessions() as session:
        result = session.execute(
            select(*columns)
            .where(OutboxMessage.run_id == run_id)
            .execution_options(yield_per=MIRROR_BATCH)
        )
        for partition in result.partitions():
            rows: list[dict[str, Any]] = [
                dict(zip(_LOG_COLUMNS, row, strict=True)) for row in partition
            ]
            for row in rows:
                for key in _TIMESTAMP_COLUMNS:
                    row[key] = _naive(row[key])
                row["state"] = str(row["state"])
            yield pa.Table.from_pylist(rows, schema=LOG_SCHEMA)


def mirror_run(sessions: sessionmaker[Session], warehouse: Warehouse, run_id: str) -> None:
    """Replace the run's rows in `tidemark.activation_runs` and `tidemark.message_log`, and
    bring `tidemark.audit_log` up to date."""
    with sessions() as session:
        run = session.get(ActivationRun, run_id)
        if run is None:
            raise LookupError(f"no activation run {run_id!r}")
        counts = state_counts(session, run_id)
    plan = run.plan or {}
    totals = run_counts(run.plan, counts)
    record = {
        "run_id": run.run_id,
        "activation": run.activation,
        "kind": run.kind,
        "mode": plan.get("mode", ""),
        "status": run.status.value,
        "members": plan.get("members"),
        "added": plan.get("added"),
        "changed": plan.get("changed"),
        "removed": plan.get("removed"),
        "planned": totals.planned,
        "excluded": totals.excluded,
        "deferred": plan.get("deferred"),
        "sent": totals.sent,
        "failed": totals.failed,
        "in_doubt": totals.in_doubt,
        "pending": totals.pending,
        "error": run.status_reason,
        "started_at": _naive(run.started_at),
        "planned_at": _naive(run.planned_at),
        "finished_at": _naive(run.finished_at),
        "updated_at": _naive(run.updated_at),
    }
    with warehouse.session() as wh:
        ensure_engine_tables(wh)
        wh.begin()
        try:
            wh.execute(f"delete from {SCHEMA}.activation_runs where run_id = ?", [run_id])
            wh.insert_arrow(f"{SCHEMA}.activation_runs", pa.Table.from_pylist([record]))
            wh.execute(f"delete from {SCHEMA}.message_log where run_id = ?", [run_id])
            for batch in _log_batches(sessions, run_id):
                wh.insert_arrow(f"{SCHEMA}.message_log", batch)
            wh.commit()
        except BaseException:
            wh.rollback()
            raise
    mirror_audit(sessions, warehouse)  # the run's audit entries, and any since the last
