"""The ops store's delivery tables: runs, the per-activation lock, the outbox, cap claims.

The outbox is the ledger of every message the engine planned. A row exists before the
provider is ever called; its state says exactly where the message is:

    planned ──claim──► sending ──provider answered──► sent | failed | planned (retry)
       │                  └──worker died, or the answer was lost──► in_doubt
       ├──final gate (suppressed / over the cap)──► excluded
       └──a newer run of the activation planned the same profile──► cancelled (superseded)

`in_doubt` is never re-sent automatically: provider feedback or an operator resolves it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from connectors.ops_store.column_types import UTCDateTime, json_document, utc_now
from connectors.ops_store.models import Base, BigIntKey, string_enum


class RunStatus(enum.StrEnum):
    PLANNING = "planning"
    AWAITING_APPROVAL = "awaiting_approval"
    ENQUEUED = "enqueued"
    DELIVERING = "delivering"
    DEFERRED = "deferred"  # delivered what was due; the rest waits for its send time
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    PLANNED = "planned"  # a dry run ends here


FINAL_RUN_STATUSES = frozenset(
    {
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.CANCELLED,
        RunStatus.SKIPPED,
        RunStatus.PLANNED,
    }
)


class MessageState(enum.StrEnum):
    PLANNED = "planned"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    EXCLUDED = "excluded"
    IN_DOUBT = "in_doubt"
    CANCELLED = "cancelled"


class StoredActivation(Base):
    """An activation created at run time through the engine's API (dbt declares the rest)."""

    __tablename__ = "activations"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(json_document())
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class ActivationRun(Base):
    """One run (or dry run) of an activation and where it stands."""

    __tablename__ = "activation_runs"
    __table_args__ = (Index("ix_activation_runs_activation_started", "activation", "started_at"),)

    run_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    activation: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(16))  # run | dry_run
    status: Mapped[RunStatus] = mapped_column(string_enum(RunStatus, "run_status"))
    status_reason: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200))
    plan: Mapped[dict[str, Any] | None] = mapped_column(json_document())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class ActivationLock(Base):
    """At most one run per activation at a time: the row is the lock.

    A holder that died leaves its row behind; a newer run takes it over when the holder's
    process is gone (same host) or its heartbeat is older than the lock's time to live.
    """

    __tablename__ = "activation_locks"

    activation: Mapped[str] = mapped_column(String(63), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(100))
    holder: Mapped[str] = mapped_column(String(200))  # hostname:pid
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class OutboxMessage(Base):
    """One planned message and its delivery state: the ledger."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_run_state_due", "run_id", "state", "next_attempt_at"),
        Index("ix_outbox_profile_channel", "profile_id", "channel"),
    )

    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(100))
    activation: Mapped[str] = mapped_column(String(63))
    profile_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(400))
    variant: Mapped[str] = mapped_column(String(100))
    change: Mapped[str] = mapped_column(String(16))
    attributes: Mapped[str] = mapped_column(Text)  # the segment row, JSON, for rendering
    partition: Mapped[int] = mapped_column(SmallInteger)
    state: Mapped[MessageState] = mapped_column(string_enum(MessageState, "message_state"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    send_after: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    provider: Mapped[str | None] = mapped_column(String(32))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    error_class: Mapped[str | None] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FrequencyClaim(Base):
    """A message counted against its recipient's frequency cap on a channel.

    Claimed in the same transaction as the final gate that checks the cap, so two
    activations racing over one recipient cannot both slip under it.
    """

    __tablename__ = "frequency_claims"
    __table_args__ = (
        UniqueConstraint("message_id"),
        Index("ix_frequency_claims_recipient", "channel", "profile_id", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    profile_id: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RateBucket(Base):
    """A destination's token bucket, shared by every process that sends through it.

    Times are seconds since the epoch on the database's clock, so workers on several hosts
    agree on them. `refilled_at` in the future means a provider's Retry-After is in force:
    nothing is granted until then (see `rate_buckets.py`).
    """

    __tablename__ = "rate_buckets"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    refilled_at: Mapped[float] = mapped_column(Float)
