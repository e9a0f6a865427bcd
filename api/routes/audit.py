"""`/api/v1/audit` (admin): the audit trail, newest first, filterable."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel

from api.auth import Admin
from api.request_body import JsonApiRoute
from api.state import State
from connectors.ops_store.audit import list_audit

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], route_class=JsonApiRoute)

MAX_ENTRIES = 500


class AuditPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    resource_type: str
    resource_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditList(BaseModel):
    data: list[AuditPublic]
    count: int


@router.get("")
def list_entries(
    state: State,
    _caller: Admin,
    resource_type: Annotated[str | None, Query(max_length=100)] = None,
    resource_id: Annotated[str | None, Query(max_length=200)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[AwareDatetime | None, Query(description="With a UTC offset.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ENTRIES)] = 100,
) -> AuditList:
    with state.sessions() as session:
        entries = list_audit(
            session,
            resource_type=resource_type,
            resource_id=resource_id,
            actor=actor,
            since=since,
            limit=limit,
        )
        data = [AuditPublic.model_validate(e, from_attributes=True) for e in entries]
    return AuditList(data=data, count=len(data))
