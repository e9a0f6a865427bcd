"""Erasure requests: the record that a data subject asked to be forgotten, and of what was done.

The request outlives the erasure, so it must hold no personal data once carried out: the
profile id is kept only while the request is pending (the warehouse part needs it), then
cleared; what stays is a SHA-256 of the id (to answer "was this profile erased, and when?"
when someone presents the id again), who asked, when, and the row counts removed per table.
Nothing here commits.
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from connectors.ops_store.column_types import UTCDateTime, json_document, utc_now
from connectors.ops_store.models import Base, string_enum


class ErasureStatus(enum.StrEnum):
    PENDING = "pending"  # the ops store part is done; the warehouse part waits for a run
    DONE = "done"


class ErasureRequest(Base):
    """One erasure of one profile: pending until the warehouse part ran, then anonymous."""

    __tablename__ = "erasure_requests"
    __table_args__ = (Index("ix_erasure_requests_status", "status"),)

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject_hash: Mapped[str] = mapped_column(String(64), index=True)
    profile_id: Mapped[str | None] = mapped_column(String(200))  # cleared when done
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    status: Mapped[ErasureStatus] = mapped_column(string_enum(ErasureStatus, "erasure_status"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed: Mapped[dict[str, Any] | None] = mapped_column(json_document())


def subject_hash(profile_id: str) -> str:
    """How a profile is named in records that outlive its erasure."""
    return hashlib.sha256(f"tidemark-subject:{profile_id}".encode()).hexdigest()


def open_erasure(
    session: Session, *, profile_id: str, requested_by: str, removed: dict[str, Any]
) -> ErasureRequest:
    """Record a pending erasure (the ops store part, counted in `removed`, is already done)."""
    if not profile_id:
        raise ValueError("an erasure request needs a profile id")
    request = ErasureRequest(
        request_id=uuid.uuid4().hex,
        subject_hash=subject_hash(profile_id),
        profile_id=profile_id,
        requested_by=requested_by,
        requested_at=utc_now(),
        status=ErasureStatus.PENDING,
        removed=removed,
    )
    session.add(request)
    session.flush()
    return request


def pending_erasures(session: Session) -> list[ErasureRequest]:
    """Requests whose warehouse part has not run yet, oldest first."""
    query = (
        select(ErasureRequest)
        .where(ErasureRequest.status == ErasureStatus.PENDING)
        .order_by(ErasureRequest.requested_at)
    )
    return list(session.scalars(query))


def close_erasure(session: Session, request: ErasureRequest, removed: dict[str, Any]) -> None:
    """Mark `request` done, add what the warehouse part removed, and forget the profile id."""
    request.status = ErasureStatus.DONE
    request.completed_at = utc_now()
    request.removed = {**(request.removed or {}), **removed}
    request.profile_id = None
    session.flush()


def was_erased(session: Session, profile_id: str) -> bool:
    """Whether an erasure of `profile_id` was requested (its addresses are suppressed)."""
    query = select(ErasureRequest.request_id).where(
        ErasureRequest.subject_hash == subject_hash(profile_id)
    )
    return session.scalars(query.limit(1)).first() is not None
