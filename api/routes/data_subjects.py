"""Data-subject requests (admin): export a profile's data, erase a profile.

- `GET /api/v1/profiles/{profile_id}/export`: every row held about the profile, as one JSON
  document streamed from the warehouse and the ops store (`activation.data_subjects`).
- `DELETE /api/v1/profiles/{profile_id}`: 202 once nothing more can be sent to the profile
  (its addresses are suppressed with reason `erased`, its queued messages gone); its
  warehouse rows are removed by the next erasure run (the API never writes the warehouse).
- `GET /api/v1/erasure-requests/{request_id}`: where that erasure stands.

Audit entries and the erasure record name the profile by a hash, never by its id: they
outlive the erasure and must not undo it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from activation.data_subjects import (
    UnknownProfileError,
    export_profile,
    profile_is_known,
    request_erasure,
)
from api.auth import Admin
from api.request_body import JsonApiRoute
from api.state import AppState, State
from connectors.ops_store import record_audit
from connectors.ops_store.erasure_requests import ErasureRequest, subject_hash

router = APIRouter(prefix="/api/v1", tags=["data subjects"], route_class=JsonApiRoute)


class ErasureRequestPublic(BaseModel):
    """An erasure request as admins see it: no profile id, only its hash."""

    request_id: str
    status: str
    subject_hash: str
    requested_by: str
    requested_at: datetime
    completed_at: datetime | None
    removed: dict[str, Any] | None


def _not_found(profile_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no profile {profile_id!r} is known")


def _audited_export_check(state: AppState, profile_id: str, actor: str) -> None:
    if not profile_is_known(state.warehouse, state.sessions, profile_id):
        raise _not_found(profile_id)
    with state.sessions.begin() as session:
        record_audit(
            session,
            actor=actor,
            action="profile.export",
            resource_type="profile_subject",
            resource_id=subject_hash(profile_id),
            before=None,
            after=None,
        )


@router.get(
    "/profiles/{profile_id}/export",
    summary="Export everything held about a profile (streamed JSON)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/json": {}}}, 404: {}},
)
async def export(profile_id: str, state: State, caller: Admin) -> StreamingResponse:
    await run_in_threadpool(_audited_export_check, state, profile_id, caller.actor)
    return StreamingResponse(
        export_profile(state.warehouse, state.sessions, profile_id),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="profile-export.json"'},
    )


class ErasureAccepted(BaseModel):
    request_id: str
    status: str
    suppressed_addresses: int
    removed: dict[str, Any]


@router.delete(
    "/profiles/{profile_id}",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Erase a profile (never messaged again; removed from the warehouse by a run)",
)
def erase(profile_id: str, state: State, caller: Admin) -> ErasureAccepted:
    try:
        outcome = request_erasure(state.warehouse, state.sessions, profile_id, actor=caller.actor)
    except UnknownProfileError:
        raise _not_found(profile_id) from None
    return ErasureAccepted(
        request_id=outcome.request_id,
        status=outcome.status,
        suppressed_addresses=outcome.suppressed_addresses,
        removed=outcome.removed,
    )


@router.get("/erasure-requests/{request_id}", summary="Where an erasure request stands")
def erasure_request(request_id: str, state: State, caller: Admin) -> ErasureRequestPublic:
    with state.sessions() as session:
        request = session.get(ErasureRequest, request_id)
        if request is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no erasure request {request_id!r}")
        return ErasureRequestPublic(
            request_id=request.request_id,
            status=request.status.value,
            subject_hash=request.subject_hash,
            requested_by=request.requested_by,
            requested_at=request.requested_at,
            completed_at=request.completed_at,
            removed=request.removed,
        )
