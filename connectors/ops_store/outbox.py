"""The outbox: enqueue planned messages, claim due ones through the final gate, record outcomes.

The invariants that make delivery crash-safe live here, in the transactions:

- enqueueing is idempotent by message id (re-enqueueing a plan after a crash adds nothing);
- a claim moves rows to `sending` *and commits* before any provider is called, so a worker
  that dies mid-send leaves `sending` rows, which the next worker turns into `in_doubt` —
  never back into `planned`;
- the final gate (immediate suppressions, frequency-cap claims) runs in the claim's
  transaction: a recipient who unsubscribed after the plan is excluded, and two activations
  racing over one recipient cannot both slip under the cap (PostgreSQL: advisory locks per
  recipient; SQLite: the claim holds the single writer lock);
- outcomes only update rows still in `sending`, so a late answer never overwrites a decision.

Functions work in the caller's session; callers commit.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from connectors.ops_store.delivery_models import FrequencyClaim, MessageState, OutboxMessage
from connectors.ops_store.engine import start_write_transaction
from connectors.ops_store.suppressions import address_hash, suppressed_addresses

OUTBOX = cast(Table, OutboxMessage.__table__)

PARTITIONS = 64
"""Outbox rows are spread over this many hash partitions, for parallel delivery workers."""


def partition_of(message_id: str) -> int:
    return zlib.crc32(message_id.encode()) % PARTITIONS


@dataclass(frozen=True)
class ClaimedMessage:
    """A message a worker now owns (state `sending`) and must report on."""

    message_id: str
    profile_id: str
    channel: str
    address: str
    variant: str
    attributes: str
    attempts: int


@dataclass(frozen=True)
class Claim:
    messages: list[ClaimedMessage]
    excluded: dict[str, str]  # message_id -> reason, decided by the final gate


@dataclass(frozen=True)
class FrequencyRule:
    max_messages: int
    window: timedelta


@dataclass(frozen=True)
class Outcome:
    """What happened to a claimed message, as the engine decided it."""

    message_id: str
    state: MessageState  # sent | failed | planned (retry) | in_doubt
    provider: str | None = None
    provider_message_id: str | None = None
    error_class: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    retry_at: datetime | None = None


def enqueue_messages(session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert planned messages whose id is not yet in the outbox; returns how many were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    table = OUTBOX
    before = session.scalar(
        select(func.count())
        .select_from(table)
        .where(OutboxMessage.message_id.in_([r["message_id"] for r in rows]))
    )
    statement: Any
    if dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=["message_id"])
    else:
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=["message_id"])
    session.execute(statement, list(rows))
    return len(rows) - int(before or 0)


def recover_interrupted(session: Session, run_id: str, now: datetime) -> int:
    """Messages left `sending` by a worker that died become `in_doubt`; returns how many.

    Call it only when no other worker can be delivering this run (the activation lock).
    """
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.run_id == run_id, OutboxMessage.state == MessageState.SENDING)
        .values(
            state=MessageState.IN_DOUBT,
            error_class="in_doubt",
            error_message="the worker stopped before recording the provider's answer",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _lock_recipients(session: Session, channel: str, profile_ids: Iterable[str]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the claim's BEGIN IMMEDIATE already excludes every other writer
    keys = sorted({zlib.crc32(f"{channel}:{p}".encode()) for p in profile_ids})
    for key in keys:  # sorted, so two claimers never wait on each other in a cycle
        session.execute(select(func.pg_advisory_xact_lock(key)))


def _recent_claims(
    session: Session, channel: str, profile_ids: list[str], since: datetime
) -> Counter[str]:
    counts: Counter[str] = Counter()
    for start in range(0, len(profile_ids), 500):
        chunk = profile_ids[start : start + 500]
        rows = session.execute(
            select(FrequencyClaim.profile_id, func.count())
            .where(
                FrequencyClaim.channel == channel,
                FrequencyClaim.profile_id.in_(chunk),
                FrequencyClaim.claimed_at >= since,
            )
            .group_by(FrequencyClaim.profile_id)
        )
        counts.update({profile_id: int(n) for profile_id, n in rows})
    return counts


def claim_due(
    session: Session,
    run_id: str,
    *,
    limit: int,
    now: datetime,
    worker: str,
    frequency: FrequencyRule | None,
    partitions: tuple[int, int] | None = None,
) -> Claim:
    """Claim up to `limit` due messages of a run, passing each through the final gate.

    `partitions=(index, count)` restricts the claim to one worker's share of the outbox.
    """
    start_write_transaction(session)
    query = (
        select(
            OutboxMessage.message_id,
            OutboxMessage.profile_id,
            OutboxMessage.channel,
            OutboxMessage.address,
            OutboxMessage.variant,
            OutboxMessage.attributes,
            OutboxMessage.attempts,
        )
        .where(
            OutboxMessage.run_id == run_id,
            OutboxMessage.state == MessageState.PLANNED,
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.message_id)
        .limit(limit)
    )
    if partitions is not None:
        index, count = partitions
        query = query.where(OutboxMessage.partition % count == index)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = [ClaimedMessage(*row) for row in session.execute(query)]
    if not rows:
        return Claim([], {})
    excluded = _final_gate(session, rows, now=now, frequency=frequency)
    claimed = [r for r in rows if r.message_id not in excluded]
    if excluded:
        session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.message_id == bindparam("mid"))
            .values(state=MessageState.EXCLUDED, error_code=bindparam("reason"), updated_at=now),
            [{"mid": mid, "reason": reason} for mid, reason in excluded.items()],
        )
    for chunk in _chunks([r.message_id for r in claimed]):
        # One statement per chunk, not one per message: the claim is on every message's path.
        session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.message_id.in_(chunk))
            .values(
                state=MessageState.SENDING,
                attempts=OUTBOX.c.attempts + 1,
                claimed_by=worker,
                updated_at=now,
            )
        )
    return Claim(
        [
            ClaimedMessage(
                r.message_id,
                r.profile_id,
                r.channel,
                r.address,
                r.variant,
                r.attributes,
                r.attempts + 1,
            )
            for r in claimed
        ],
        excluded,
    )


def _final_gate(
    session: Session,
    rows: list[ClaimedMessage],
    *,
    now: datetime,
    frequency: FrequencyRule | None,
) -> dict[str, str]:
    """Exclude what became unsendable since the plan; claim cap slots for the rest."""
    excluded: dict[str, str] = {}
    by_channel: dict[str, list[ClaimedMessage]] = {}
    for row in rows:
        by_channel.setdefault(row.channel, []).append(row)
    for channel, members in by_channel.items():
        if channel in ("email", "sms"):
            checkable = []
            for r in members:
                try:
                    address_hash(channel, r.address)
                except ValueError:
                    excluded[r.message_id] = "invalid_address"
                else:
                    checkable.append(r)
            blocked = suppressed_addresses(session, channel, [r.address for r in checkable])
            for r in checkable:
                if r.address in blocked:
                    excluded[r.message_id] = "suppressed"
        if frequency is None or channel == "webhook":
            continue
        candidates = [r for r in members if r.message_id not in excluded]
        profile_ids = sorted({r.profile_id for r in candidates})
        _lock_recipients(session, channel, profile_ids)
        counts = _recent_claims(session, channel, profile_ids, now - frequency.window)
        already = {
            mid
            for (mid,) in session.execute(
                select(FrequencyClaim.message_id).where(
                    FrequencyClaim.message_id.in_([r.message_id for r in candidates])
                )
            )
        }
        new_claims = []
        for r in candidates:
            if r.message_id in already:
                continue  # a retry keeps the slot it claimed on its first attempt
            if counts[r.profile_id] >= frequency.max_messages:
                excluded[r.message_id] = "frequency_cap"
                continue
            counts[r.profile_id] += 1
            new_claims.append(
                {
                    "channel": channel,
                    "profile_id": r.profile_id,
                    "message_id": r.message_id,
                    "claimed_at": now,
                }
            )
        if new_claims:
            session.execute(insert(FrequencyClaim), new_claims)
    return excluded


_OUTCOME_COLUMNS = (
    "state",
    "provider",
    "provider_message_id",
    "error_class",
    "error_code",
    "error_message",
    "next_attempt_at",
    "sent_at",
)

_RECORD_ONE_OUTCOME = (
    update(OUTBOX)
    .where(
        OUTBOX.c.message_id == bindparam("outcome_message_id"),
        OUTBOX.c.state == MessageState.SENDING,
    )
    .values({name: bindparam(f"outcome_{name}") for name in (*_OUTCOME_COLUMNS, "updated_at")})
)
"""One message's outcome, executed once with every message's values (an executemany)."""


def record_outcomes(session: Session, outcomes: Sequence[Outcome], now: datetime) -> None:
    """Store what happened to claimed messages; rows no longer `sending` are left alone.

    Outcomes that record the same values (a batch sent in one request shares its provider
    id; failures share their error) are written by one statement per group. Outcomes with
    values of their own (SMTP gives every message its own provider id) are written by one
    statement executed with each message's values, not one statement compiled per message.
    """
    if not outcomes:
        return
    groups: dict[tuple[Any, ...], list[str]] = {}
    for o in outcomes:
        values = (
            o.state,
            o.provider,
            o.provider_message_id,
            o.error_class,
            o.error_code,
            o.error_message,
            o.retry_at or now,
            now if o.state is MessageState.SENT else None,
        )
        groups.setdefault(values, []).append(o.message_id)
    singles: list[dict[str, Any]] = []
    for values, ids in groups.items():
        if len(ids) == 1:
            singles.append(
                {f"outcome_{n}": v for n, v in zip(_OUTCOME_COLUMNS, values, strict=True)}
                | {"outcome_message_id": ids[0], "outcome_updated_at": now}
            )
            continue
        for chunk in _chunks(ids):
            session.execute(
                update(OUTBOX)
                .where(OUTBOX.c.message_id.in_(chunk), OUTBOX.c.state == MessageState.SENDING)
                .values({**dict(zip(_OUTCOME_COLUMNS, values, strict=True)), "updated_at": now})
            )
    if singles:
        session.execute(_RECORD_ONE_OUTCOME, singles)
    released = [o.message_id for o in outcomes if o.state is MessageState.FAILED]
    for chunk in _chunks(released):  # a message never delivered does not count against the cap
        session.execute(delete(FrequencyClaim).where(FrequencyClaim.message_id.in_(chunk)))


def _chunks(ids: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    """`ids` in slices small enough for one statement's parameters on every engine."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def next_due(session: Session, run_id: str) -> datetime | None:
    """When the run's earliest waiting message may be sent (None: nothing waits)."""
    due: datetime | None = session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.run_id == run_id, OutboxMessage.state == MessageState.PLANNED
        )
    )
    return due


SUPERSEDED = "superseded"


def supersede_waiting(
    session: Session,
    *,
    activation: str,
    channel: str,
    run_id: str,
    profile_ids: Sequence[str],
    now: datetime,
) -> int:
    """Cancel messages of the activation's earlier runs still waiting for these profiles.

    A profile planned again by a newer run (its row changed, or it came back) gets the newer
    message; an older one still waiting for its send time would be stale, and a second email
    from the same activation. Only `planned` rows change: what is being sent or was sent
    keeps its state. Returns how many were cancelled.
    """
    cancelled = 0
    for start in range(0, len(profile_ids), 500):
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.activation == activation,
                OutboxMessage.channel == channel,
                OutboxMessage.run_id != run_id,
                OutboxMessage.state == MessageState.PLANNED,
                OutboxMessage.profile_id.in_(profile_ids[start : start + 500]),
            )
            .values(
                state=MessageState.CANCELLED,
                error_code=SUPERSEDED,
                error_message=f"superseded by run {run_id}",
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        cancelled += int(getattr(result, "rowcount", 0) or 0)
    return cancelled


def state_counts(session: Session, run_id: str) -> dict[str, int]:
    """A run's messages by state (states without messages absent)."""
    return runs_state_counts(session, [run_id])[run_id]


def runs_state_counts(session: Session, run_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """Per run, its messages by state, in one grouped query."""
    counts: dict[str, dict[str, int]] = {run_id: {} for run_id in run_ids}
    if not run_ids:
        return counts
    rows = session.execute(
        select(OutboxMessage.run_id, OutboxMessage.state, func.count())
        .where(OutboxMessage.run_id.in_(run_ids))
        .group_by(OutboxMessage.run_id, OutboxMessage.state)
    )
    for run_id, state, n in rows:
        counts[run_id][str(state)] = int(n)
    return counts
