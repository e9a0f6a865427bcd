"""Activations: the list, one activation, and the short flow that creates one.

Flow: segment → destination → message (with a live preview for a sample member) →
experiment/holdout → schedule and limits → save, which queues a dry run; the dry run's page
shows its counts and a button to confirm, which queues the real run.

Saving, dry runs and runs go through the JSON API's own handlers (`api.routes.activations`),
so a click here and a call there validate, audit and queue alike. Runs are *requested*
(`activation_requests`), not run in the web process: Dagster's request sensor carries them
out (one run per request, run id = request id) and the page the marketer lands on polls the
run's progress.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.responses import Response

from activation.catalog import UnknownActivationError
from api.reads.activations import read_activation, read_activations
from api.reads.preview import PreviewError, preview_message
from api.reads.segments import UnknownSegmentError, read_segments
from api.routes import activations as api
from api.routes.activations import ActivationCreate
from api.state import AppState, State
from connectors.ops_store.models import RequestKind
from dashboards.access import CheckedForm, PageCaller, SignedIn, SignedInMarketer
from dashboards.activation_form import read_definition
from dashboards.templating import render
from dashboards.unavailable import or_unavailable

router = APIRouter(include_in_schema=False)

DRAFT_NAME = "draft"
"""The name a draft previews under until the marketer has typed one."""


def _form_page(
    request: Request,
    state: State,
    caller: PageCaller,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    segments = or_unavailable(lambda: read_segments(state)).data
    destinations = sorted(state.settings.destinations.items())
    return render(
        request,
        "activation_new.html",
        caller,
        segments=segments,
        destinations=[(name, entry.kind) for name, entry in destinations],
        values=values,
        errors=errors,
        status_code=status_code,
    )


@router.get("/activations")
def activations_page(request: Request, state: State, caller: SignedIn) -> Response:
    return render(request, "activations.html", caller, activations=read_activations(state).data)


@router.get("/activations/new")
def new_activation_page(
    request: Request, state: State, caller: SignedInMarketer, segment: str = ""
) -> Response:
    values = {
        "segment": segment,
        "channel": "email",
        "body_format": "html",
        "quiet_hours": "on",
        "schedule": "once",
    }
    return _form_page(request, state, caller, values=values, errors={})


@router.post("/activations/preview")
def preview(state: State, caller: SignedInMarketer, form: CheckedForm) -> Response:
    """The message for a sample member, as JSON for the form's live preview.

    The name is not part of the message: a draft without one yet still previews.
    """
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    if not fields.get("name", "").strip():
        fields["name"] = DRAFT_NAME
    definition, errors = read_definition(fields)
    if definition is None:
        return JSONResponse({"error": "; ".join(f"{k}: {v}" for k, v in errors.items())})
    try:
        result = or_unavailable(lambda: preview_message(state, definition))
    except (PreviewError, UnknownSegmentError) as error:
        return JSONResponse({"error": str(error)})
    return JSONResponse(result.model_dump(mode="json"))


@router.post("/activations")
def create(request: Request, state: State, caller: SignedInMarketer, form: CheckedForm) -> Response:
    definition, errors = read_definition(form)
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    if definition is not None and definition.destination not in state.settings.destinations:
        errors["destination"] = f"unknown destination {definition.destination!r}"
        definition = None
    if definition is not None:
        try:
            api.create(
                state, caller.principal, ActivationCreate.model_validate(definition.model_dump())
            )
            accepted = api.dry_run(state, caller.principal, None, definition.name)
        except HTTPException as error:
            errors["form"] = str(error.detail)
        else:
            return RedirectResponse(
                f"/runs/{accepted.run_id}", status_code=status.HTTP_303_SEE_OTHER
            )
    return _form_page(
        request,
        state,
        caller,
        values=values,
        errors=errors,
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


@router.get("/activations/{name}")
def activation_page(request: Request, state: State, caller: SignedIn, name: str) -> Response:
    try:
        detail = read_activation(state, name)
    except UnknownActivationError as error:
        return render(
            request,
            "problem.html",
            caller,
            heading="No such activation",
            message=str(error),
            status_code=404,
        )
    return render(request, "activation.html", caller, detail=detail)


@router.post("/activations/{name}/dry-run")
def dry_run(
    request: Request, state: State, caller: SignedInMarketer, form: CheckedForm, name: str
) -> Response:
    return _requested(request, state, caller, name, RequestKind.DRY_RUN)


@router.post("/activations/{name}/trigger")
def trigger(
    request: Request, state: State, caller: SignedInMarketer, form: CheckedForm, name: str
) -> Response:
    return _requested(request, state, caller, name, RequestKind.RUN)


def _requested(
    request: Request, state: AppState, caller: PageCaller, name: str, kind: RequestKind
) -> Response:
    queue = api.trigger if kind is RequestKind.RUN else api.dry_run
    try:
        accepted = queue(state, caller.principal, None, name)
    except HTTPException as error:
        return render(
            request,
            "problem.html",
            caller,
            heading="Cannot start this run",
            message=str(error.detail),
            status_code=error.status_code,
        )
    return RedirectResponse(f"/runs/{accepted.run_id}", status_code=status.HTTP_303_SEE_OTHER)
