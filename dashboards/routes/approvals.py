"""Approvals (admin): runs held because their plan exceeded the activation's size limit
(`limits.max_change`, `max_change_ratio`) or an anomaly check, and the button that releases
one.

Approving goes through the JSON API's own handler (`api.routes.runs.approve`): the status is
checked at once (a run no longer held is refused with a readable message) and the approval
is queued for Dagster, which enqueues and delivers the held plan; the page shows it pending
until then, and the admin lands on the run's live progress page.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.reads.approvals import held_runs
from api.routes import runs as api
from api.state import State
from dashboards.access import CheckedForm, SignedInAdmin
from dashboards.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/approvals")
def approvals_page(request: Request, state: State, caller: SignedInAdmin) -> Response:
    return render(request, "approvals.html", caller, held=held_runs(state).data)


@router.post("/approvals/{run_id}/approve")
def approve(
    request: Request,
    state: State,
    caller: SignedInAdmin,
    form: CheckedForm,
    run_id: str,
) -> Response:
    try:
        api.approve(state, caller.principal, run_id)
    except HTTPException as error:
        return render(
            request,
            "problem.html",
            caller,
            heading="Cannot approve",
            message=str(error.detail),
            status_code=error.status_code,
        )
    return RedirectResponse(f"/runs/{run_id}", status_code=status.HTTP_303_SEE_OTHER)
