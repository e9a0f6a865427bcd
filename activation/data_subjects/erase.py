"""Erase a profile: nothing more is sent at once, and its rows leave the warehouse in a run.

Two steps, because the API never writes the warehouse (DESIGN.md, "Where data lives"):

1. `request_erasure` (the API, at once, one ops store transaction): every address known for
   the profile becomes an immediate suppression with reason `erased` (a SHA-256 of the
   normalized address, so it is never mailed again and the address itself is not kept);
   the profile's outbox messages and frequency-cap claims are deleted; an `ErasureRequest`
   and an audit entry record the request.
2. `carry_out_erasures` (a warehouse-writing run): loads whatever is still waiting in the
   landing zone (so rows not yet loaded are erased too), suppresses any address found
   since, rewrites the landing files the profile's raw rows came from without them,
   deletes the profile's rows from every warehouse base table that holds them (raw, the
   dbt tables including incremental ones, the engine's tables), and closes the request,
   which then keeps no profile id, only a hash and the counts removed.

Suppressing comes before deleting: a crash in between leaves the addresses suppressed and
the request pending, and the run simply does it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from activation.data_subjects.landing_files import landing_keys_holding, scrub_landing_files
from activation.data_subjects.subject_data import (
    SubjectTable,
    holds_profile,
    profile_addresses,
    subject_tables,
)
from connectors.landing import LandingZone
from connectors.loader import load_landing_files
from connectors.ops_store import record_audit, suppress_immediately
from connectors.ops_store.delivery_models import FrequencyClaim, OutboxMessage
from connectors.ops_store.erasure_requests import (
    close_erasure,
    open_erasure,
    pending_erasures,
)
from connectors.ops_store.models import SuppressionChannel
from connectors.ops_store.suppressions import ERASED_REASON
from connectors.warehouse.base import Warehouse, WarehouseSession

ACTION_REQUEST = "profile.erase"
ACTION_COMPLETE = "profile.erase.complete"


class UnknownProfileError(LookupError):
    """Tidemark holds nothing under this profile id."""


@dataclass(frozen=True)
class ErasureOutcome:
    """What one step of an erasure did: counts per table, addresses suppressed."""

    request_id: str
    status: str
    removed: dict[str, Any] = field(default_factory=dict)
    suppressed_addresses: int = 0


def _channel(address: str) -> SuppressionChannel:
    return SuppressionChannel.EMAIL if "@" in address else SuppressionChannel.SMS


def _suppress(session: Session, addresses: set[str]) -> int:
    for address in sorted(addresses):
        suppress_immediately(
            session, channel=_channel(address), address=address, reason=ERASED_REASON
        )
    return len(addresses)


def _outbox_addresses(session: Session, profile_id: str) -> set[str]:
    rows = session.scalars(
        select(OutboxMessage.address).where(
            OutboxMessage.profile_id == profile_id, OutboxMessage.channel != "webhook"
        )
    )
    return {a.strip().lower() if "@" in a else a for a in rows}


def _delete_ops_rows(session: Session, profile_id: str) -> dict[str, int]:
    removed = {}
    for model in (OutboxMessage, FrequencyClaim):
        count = session.scalar(
            select(func.count()).select_from(model).where(model.profile_id == profile_id)
        )
        session.execute(delete(model).where(model.profile_id == profile_id))
        removed[f"ops_store.{model.__tablename__}"] = int(count or 0)
    return removed


def _warehouse_view(
    warehouse: Warehouse, profile_id: str
) -> tuple[list[SubjectTable], set[str], bool]:
    with warehouse.session() as session:
        tables = subject_tables(session)
        addresses = profile_addresses(session, tables, profile_id)
        known = holds_profile(session, tables, profile_id)
    return tables, addresses, known


def request_erasure(
    warehouse: Warehouse, sessions: sessionmaker[Session], profile_id: str, *, actor: str
) -> ErasureOutcome:
    """Step 1: suppress the profile's addresses, clear its ops store rows, record the request.

    Raises `UnknownProfileError` when neither the warehouse nor the ops store knows the id.
    """
    _, addresses, known = _warehouse_view(warehouse, profile_id)
    with sessions.begin() as session:
        addresses |= _outbox_addresses(session, profile_id)
        removed = _delete_ops_rows(session, profile_id)
        if not known and not any(removed.values()):
            raise UnknownProfileError(f"no profile {profile_id!r} is known to Tidemark")
        suppressed = _suppress(session, addresses)
        request = open_erasure(session, profile_id=profile_id, requested_by=actor, removed=removed)
        record_audit(
            session,
            actor=actor,
            action=ACTION_REQUEST,
            resource_type="erasure_request",
            resource_id=request.request_id,
            before=None,
            after={
                "status": request.status.value,
                "subject_hash": request.subject_hash,
                "suppressed_addresses": suppressed,
                "removed": removed,
            },
        )
        return ErasureOutcome(request.request_id, request.status.value, removed, suppressed)


def _delete_warehouse_rows(
    session: WarehouseSession, tables: list[SubjectTable], profile_id: str, addresses: set[str]
) -> dict[str, int]:
    removed = {}
    session.begin()
    try:
        for table in tables:
            condition, params = table.for_profile(profile_id, sorted(addresses))
            count = int(
                session.scalar(f"select count(*) from {table.relation} where {condition}", params)
            )
            if count:
                session.execute(f"delete from {table.relation} where {condition}", params)
                removed[table.name] = count
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return removed


def carry_out_erasures(
    warehouse: Warehouse, landing: LandingZone, sessions: sessionmaker[Session]
) -> list[ErasureOutcome]:
    """Step 2, for every pending request: the warehouse part. Safe to run again after a crash."""
    with sessions() as session:
        pending = [(r.request_id, r.profile_id) for r in pending_erasures(session)]
    if not pending:
        return []
    load_landing_files(landing, warehouse)  # rows still in the landing zone are erased too
    outcomes = []
    for request_id, profile_id in pending:
        assert profile_id is not None  # pending requests keep it until closed
        tables, addresses, _ = _warehouse_view(warehouse, profile_id)
        with sessions.begin() as session:
            suppressed = _suppress(session, addresses)
            _delete_ops_rows(session, profile_id)  # anything enqueued since the request
        with warehouse.session() as warehouse_session:
            files = landing_keys_holding(warehouse_session, tables, profile_id, addresses)
        # Files first: were the rows deleted first, the files holding them could not be found.
        scrubbed = scrub_landing_files(landing, files, profile_id, addresses)
        with warehouse.session() as warehouse_session:
            removed = _delete_warehouse_rows(warehouse_session, tables, profile_id, addresses)
        with sessions.begin() as session:
            [request] = [r for r in pending_erasures(session) if r.request_id == request_id]
            landing_removed = {"files": len(files), "rows": scrubbed}
            close_erasure(session, request, {"warehouse": removed, "landing": landing_removed})
            record_audit(
                session,
                actor="erasure-run",
                action=ACTION_COMPLETE,
                resource_type="erasure_request",
                resource_id=request_id,
                before={"status": "pending"},
                after={"status": request.status.value, "removed": request.removed},
            )
            outcomes.append(
                ErasureOutcome(
                    request_id, request.status.value, dict(request.removed or {}), suppressed
                )
            )
    return outcomes
