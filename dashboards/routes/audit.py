"""The audit trail (admin): who changed what, when, and the state before and after."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.state import State
from connectors.ops_store.audit import list_audit
from dashboards.access import SignedInAdmin
from dashboards.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 200


@router.get("/audit")
def audit_page(
    request: Request,
    state: State,
    caller: SignedInAdmin,
    resource_type: str | None = None,
    actor: str | None = None,
) -> Response:
    with state.sessions() as session:
        entries = list_audit(
            session,
            resource_type=resource_type or None,
            actor=actor or None,
            limit=PAGE_SIZE,
        )
        session.expunge_all()
    return render(
        request,
        "audit.html",
        caller,
        entries=entries,
        resource_type=resource_type or "",
        actor=actor or "",
    )
