"""Export everything held about a profile as one JSON document, streamed.

A long-standing customer can have millions of event rows, so the document is written as it
is read: one warehouse table at a time, in Arrow batches, each batch encoded and yielded
before the next is read. Memory stays at one batch whatever the history.

Shape: `{"profile_id", "exported_at", "addresses", "warehouse": {"<schema>.<table>": [rows]},
"ops_store": {"outbox": [...], "frequency_claims": [...], "immediate_suppressions": [...],
"erasure_requests": [...]}}`. Suppressions are stored as hashes of the address; the export
lists the ones matching the profile's addresses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from activation.data_subjects.subject_data import holds_profile, profile_addresses, subject_tables
from connectors.ops_store.delivery_models import FrequencyClaim, OutboxMessage
from connectors.ops_store.erasure_requests import ErasureRequest, subject_hash
from connectors.ops_store.models import ImmediateSuppression
from connectors.ops_store.suppressions import address_hash
from connectors.warehouse.base import Warehouse

BATCH_ROWS = 5_000


def _encode(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def _array(batches: Iterable[Any]) -> Iterator[str]:
    """A JSON array of the rows of Arrow record batches, one chunk per batch."""
    yield "["
    first = True
    for batch in batches:
        rows = batch.to_pylist()
        if not rows:
            continue
        yield ("" if first else ",") + ",".join(_encode(row) for row in rows)
        first = False
    yield "]"


def _columns(instance: Any) -> dict[str, Any]:
    return {c.key: getattr(instance, c.key) for c in instance.__table__.columns}


def _ops_rows(sessions: sessionmaker[Session], profile_id: str, addresses: set[str]) -> Any:
    hashes = set()
    for address in addresses:
        channel = "email" if "@" in address else "sms"
        hashes.add(address_hash(channel, address))
    with sessions() as session:
        outbox = session.scalars(
            select(OutboxMessage).where(OutboxMessage.profile_id == profile_id)
        )
        claims = session.scalars(
            select(FrequencyClaim).where(FrequencyClaim.profile_id == profile_id)
        )
        suppressions = session.scalars(
            select(ImmediateSuppression).where(ImmediateSuppression.address_hash.in_(hashes))
        )
        requests = session.scalars(
            select(ErasureRequest).where(ErasureRequest.subject_hash == subject_hash(profile_id))
        )
        return {
            "outbox": [_columns(m) for m in outbox],
            "frequency_claims": [_columns(c) for c in claims],
            "immediate_suppressions": [_columns(s) for s in suppressions],
            "erasure_requests": [_columns(r) for r in requests],
        }


def _outbox_addresses(sessions: sessionmaker[Session], profile_id: str) -> set[str]:
    with sessions() as session:
        rows = session.scalars(
            select(OutboxMessage.address).where(
                OutboxMessage.profile_id == profile_id, OutboxMessage.channel != "webhook"
            )
        )
        return {a.strip().lower() if "@" in a else a for a in rows}


def profile_is_known(
    warehouse: Warehouse, sessions: sessionmaker[Session], profile_id: str
) -> bool:
    """Whether the warehouse or the ops store holds anything under `profile_id`."""
    with sessions() as session:
        in_outbox = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.profile_id == profile_id)
        )
    if in_outbox:
        return True
    with warehouse.session() as session:
        return holds_profile(session, subject_tables(session), profile_id)


def export_profile(
    warehouse: Warehouse, sessions: sessionmaker[Session], profile_id: str
) -> Iterator[bytes]:
    """The profile's data as UTF-8 JSON, in chunks (for a streamed HTTP response)."""
    exported_at = datetime.now(UTC).isoformat()
    with warehouse.session() as session:
        tables = subject_tables(session)
        addresses = profile_addresses(session, tables, profile_id)
        addresses |= _outbox_addresses(sessions, profile_id)
        head = (
            f'{{"profile_id":{_encode(profile_id)},"exported_at":{_encode(exported_at)},'
            f'"addresses":{_encode(sorted(addresses))},"warehouse":{{'
        )
        yield head.encode()
        for index, table in enumerate(tables):
            condition, params = table.for_profile(profile_id, sorted(addresses))
            batches = session.query_batches(
                f"select * from {table.relation} where {condition}", params, BATCH_ROWS
            )
            yield (("," if index else "") + _encode(table.name) + ":").encode()
            for chunk in _array(batches):
                yield chunk.encode()
    ops = _ops_rows(sessions, profile_id, addresses)
    yield ('},"ops_store":' + _encode(ops) + "}").encode()
