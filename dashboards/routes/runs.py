"""Activation runs: the list, one run's live progress, and the small JSON the page polls.

The run page renders the counts once on the server, then `run_progress.js` polls
`/runs/<id>/progress` every two seconds until the run reaches a final status, so a page left
open shows planned/sent/failed/excluded/in-doubt moving without a reload. Polling (rather
than server-sent events) keeps one short request per tick: nothing is held open per viewer.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from api.reads.runs import list_runs, read_run
from api.state import State
from connectors.ops_store.delivery_models import FINAL_RUN_STATUSES
from connectors.ops_store.models import RequestStatus
from dashboards.access import SignedIn
from dashboards.templating import render

router = APIRouter(include_in_schema=False)

FINAL_STATUSES = frozenset(
    {status.value for status in FINAL_RUN_STATUSES}
    | {RequestStatus.SKIPPED.value, RequestStatus.FAILED.value}
)
"""Statuses after which the page stops polling. A run held for approval is not final: an
admin may release it any moment (from another browser), and its page follows."""


@router.get("/runs")
def runs_page(request: Request, state: State, caller: SignedIn) -> Response:
    return render(request, "runs.html", caller, runs=list_runs(state, limit=100).data)


@router.get("/runs/{run_id}")
def run_page(request: Request, state: State, caller: SignedIn, run_id: str) -> Response:
    run = read_run(state, run_id)
    if run is None:
        return render(
            request,
            "problem.html",
            caller,
            heading="No such run",
            message=f"There is no activation run {run_id!r}.",
            status_code=404,
        )
    return render(request, "run.html", caller, run=run, final=run.status in FINAL_STATUSES)


@router.get("/runs/{run_id}/progress")
def run_progress(state: State, caller: SignedIn, run_id: str) -> Response:
    run = read_run(state, run_id)
    if run is None:
        return JSONResponse({"detail": f"no run {run_id!r}"}, status_code=404)
    body = run.model_dump(mode="json") | {"final": run.status in FINAL_STATUSES}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
