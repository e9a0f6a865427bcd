"""Activation requests: enqueued by the API, claimed by Dagster sensors, closed by runs.

Three guarantees the rest of Tidemark leans on:

- enqueueing is idempotent by `request_id` (a retried click returns the same request);
- a pending request is claimed by exactly one claimer, however many sensors or workers poll
  at once (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so claimers skip each other's rows without
  waiting; SQLite: `BEGIN IMMEDIATE`, so claims take turns under its single-writer lock);
- a status only moves forward along `ALLOWED_TRANSITIONS`; anything else is refused.

Functions work inside the caller's session and never commit: a claim's rows stay locked
until the caller commits, so it can launch the runs first and roll back if that fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.ops_store.column_types import utc_now
from connectors.ops_store.engine import start_write_transaction
from connectors.ops_store.insert_if_absent import insert_if_absent
from connectors.ops_store.models import (
    ActivationRequest,
    RequestKind,
    RequestStatus,
    parse_enum,
)

ALLOWED_TRANSITIONS: Mapping[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.PENDING: frozenset(
        {RequestStatus.LAUNCHED, RequestStatus.SKIPPED, RequestStatus.FAILED}
    ),
    RequestStatus.LAUNCHED: frozenset({RequestStatus.DONE, RequestStatus.FAILED}),
    RequestStatus.SKIPPED: frozenset(),
    RequestStatus.DONE: frozenset(),
    RequestStatus.FAILED: frozenset(),
}
"""Where each status may go next; skipped, done and failed are final."""

MAX_REQUEST_ID_LENGTH = 100


class RequestNotFoundError(LookupError):
    """No activation request has this id."""


class RequestConflictError(ValueError):
    """A request id was reused for a different request."""


class IllegalTransitionError(ValueError):
    """A status change not in `ALLOWED_TRANSITIONS`."""


def enqueue_request(
    session: Session,
    *,
    activation_name: str,
    requested_by: str,
    kind: RequestKind | str = RequestKind.RUN,
    request_id: str | None = None,
    run_id: str | None = None,
    now: datetime | None = None,
) -> ActivationRequest:
    """Record a pending request, or return the existing one with the same `request_id`.

    An approval names the held run it releases (`run_id`); other kinds name none. Reusing
    an id for another activation, kind, run or requester is refused: it is a caller bug,
    and silently returning the other request would launch the wrong thing.
    """
    kind = parse_enum(RequestKind, kind, "request kind")
    if (kind is RequestKind.APPROVE) != (run_id is not None):
        raise ValueError("an approve request names the run it approves (run_id); others do not")
    request_id = _check_request_id(request_id if request_id is not None else str(uuid.uuid4()))
    if not activation_name.strip():
        raise ValueError("activation request needs a non-empty activation_name")
    if not requested_by.strip():
        raise ValueError("activation request needs a non-empty requested_by")
    moment = now or utc_now()
    insert_if_absent(
        session,
        ActivationRequest,
        {
            "request_id": request_id,
            "activation_name": activation_name,
            "requested_by": requested_by,
            "requested_at": moment,
            "kind": kind,
            "status": RequestStatus.PENDING,
            "updated_at": moment,
            "run_id": run_id,
        },
        conflict_columns=["request_id"],
    )
    request = _load(session, request_id, lock=False)
    if request is None:  # pragma: no cover - the insert or the conflicting row guarantees one
        raise RequestNotFoundError(f"activation request {request_id!r} vanished after insert")
    enqueued = (request.activation_name, request.kind, request.requested_by, request.run_id)
    if enqueued != (activation_name, kind, requested_by, run_id):
        raise RequestConflictError(
            f"activation request id {request_id!r} is already used by a {request.kind} of "
            f"{request.activation_name!r} requested by {request.requested_by!r}"
        )
    return request


def open_approval(session: Session, run_id: str) -> ActivationRequest | None:
    """The approval of `run_id` queued and not carried out yet (pending or launched), if any."""
    query = (
        select(ActivationRequest)
        .where(
            ActivationRequest.kind == RequestKind.APPROVE,
            ActivationRequest.run_id == run_id,
            ActivationRequest.status.in_([RequestStatus.PENDING, RequestStatus.LAUNCHED]),
        )
        .order_by(ActivationRequest.requested_at.desc())
        .limit(1)
    )
    return session.scalars(query).one_or_none()


def get_request(session: Session, request_id: str) -> ActivationRequest | None:
    """The request with this id, fresh from the database, or None."""
    return _load(session, request_id, lock=False)


def list_requests(
    session: Session,
    *,
    status: RequestStatus | str | None = None,
    activation_name: str | None = None,
    limit: int = 100,
) -> list[ActivationRequest]:
    """Requests matching the filters, newest first."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    query = select(ActivationRequest)
    if status is not None:
        query = query.where(ActivationRequest.status == parse_enum(RequestStatus, status, "status"))
    if activation_name is not None:
        query = query.where(ActivationRequest.activation_name == activation_name)
    query = query.order_by(ActivationRequest.requested_at.desc(), ActivationRequest.request_id)
    return list(session.scalars(query.limit(limit)))


def claim_pending_requests(
    session: Session, limit: int, *, now: datetime | None = None
) -> list[ActivationRequest]:
    """Move up to `limit` of the oldest pending requests to `launched` and return them.

    No two claimers ever get the same request. The caller launches one run per request
    (`run_key` = `request_id`) and then commits; rolling back returns them to pending. On
    SQLite the session must not have a transaction open yet (the claim begins its own).
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    start_write_transaction(session)
    query = (
        select(ActivationRequest)
        .where(ActivationRequest.status == RequestStatus.PENDING)
        .order_by(ActivationRequest.requested_at, ActivationRequest.request_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    claimed = list(session.scalars(query))
    moment = now or utc_now()
    for request in claimed:
        request.status = RequestStatus.LAUNCHED
        request.status_reason = None
        request.updated_at = moment
    session.flush()
    return claimed


def mark_request(
    session: Session,
    request_id: str,
    status: RequestStatus | str,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> ActivationRequest:
    """Move a request to `status` (with an optional human-readable `reason`).

    Marking a request with the status it already has changes nothing, so a retried
    "done" is harmless; any move not in `ALLOWED_TRANSITIONS` raises `IllegalTransitionError`.
    """
    target = parse_enum(RequestStatus, status, "status")
    request = _load(session, request_id, lock=True)
    if request is None:
        raise RequestNotFoundError(f"no activation request with id {request_id!r}")
    if request.status == target:
        return request
    allowed = ALLOWED_TRANSITIONS[request.status]
    if target not in allowed:
        next_steps = (
            f"{request.status} is final"
            if not allowed
            else f"from {request.status} it can only go to {', '.join(sorted(allowed))}"
        )
        raise IllegalTransitionError(
            f"activation request {request_id!r} cannot go from {request.status} to {target}: "
            f"{next_steps}"
        )
    request.status = target
    request.status_reason = reason
    request.updated_at = now or utc_now()
    session.flush()
    return request


def _load(session: Session, request_id: str, *, lock: bool) -> ActivationRequest | None:
    query = select(ActivationRequest).where(ActivationRequest.request_id == request_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def _check_request_id(request_id: str) -> str:
    if not request_id or not request_id.strip():
        raise ValueError("activation request id must not be empty")
    if len(request_id) > MAX_REQUEST_ID_LENGTH:
        raise ValueError(
            f"activation request id is {len(request_id)} characters long; "
            f"the limit is {MAX_REQUEST_ID_LENGTH}"
        )
    if not request_id.isprintable():
        raise ValueError(f"activation request id {request_id!r} has non-printable characters")
    return request_id
