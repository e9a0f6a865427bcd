"""`/api/v1/activations`: list, create, preview, dry-run, trigger and cancel activations.

Dry runs and runs are *requests*: the API writes them to the ops store's
`activation_requests` queue (with an audit entry, in one transaction) and answers 202 with
the request id; the Dagster sensor launches one run per request with run id = request id, so
`GET /api/v1/runs/{request_id}` follows it from `pending` to `completed`. The API process
never writes the warehouse for them, and a build holding DuckDB never blocks a click. Send
`request_id` yourself to make a retried click idempotent.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from activation.cancel import Cancellation, cancel_activation
from activation.catalog import UnknownActivationError, create_activation, get_activation
from activation.definition import ActivationDefinition
from activation.segments import discover_segments
from api.auth import Marketer, Principal, Viewer
from api.reads.activations import (
    ActivationDetail,
    ActivationList,
    read_activation,
    read_activations,
)
from api.reads.preview import MessagePreview, PreviewError, preview_message
from api.reads.segments import UnknownSegmentError
from api.request_body import JsonApiRoute
from api.state import AppState, State
from connectors.ops_store.activation_requests import RequestConflictError, enqueue_request
from connectors.ops_store.audit import record_audit
from connectors.ops_store.column_types import utc_now
from connectors.ops_store.engine import write_transaction
from connectors.ops_store.models import RequestKind

router = APIRouter(prefix="/api/v1/activations", tags=["activations"], route_class=JsonApiRoute)

ActivationName = Path(pattern=r"^[a-z][a-z0-9_]{1,62}$", description="The activation's name.")


class ActivationCreate(ActivationDefinition):
    """A new activation (or a new version of one created through the API)."""

    declared_in: SkipJsonSchema[Literal["api"]] = "api"


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_id: str | None = Field(
        default=None,
        max_length=200,
        description="A member of the segment; the segment's first member when omitted.",
    )


class DraftPreviewRequest(PreviewRequest):
    definition: ActivationCreate


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Idempotency key: the same id returns the same request.",
    )


class RunAccepted(BaseModel):
    request_id: str
    run_id: str = Field(description="The run carrying the request out will have this id.")
    activation: str
    kind: str
    status: str
    status_url: str


class CancelResult(BaseModel):
    activation: str
    requests: list[str] = Field(description="Pending requests that will not run.")
    runs: list[str] = Field(description="Runs marked cancelled.")
    messages: int = Field(description="Planned messages that will not be sent.")


def _not_found(error: LookupError) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, str(error))


def _definition(state: AppState, name: str) -> ActivationDefinition:
    with state.sessions() as session:
        try:
            return get_activation(name, state.manifest(), session)
        except UnknownActivationError as error:
            raise _not_found(error) from error


@router.get("")
def list_all(state: State, _caller: Viewer) -> ActivationList:
    """Activations declared in dbt and created through the API, with their last run."""
    return read_activations(state)


@router.post("", status_code=status.HTTP_201_CREATED)
def create(state: State, caller: Marketer, body: ActivationCreate) -> ActivationDefinition:
    """Create an activation (or replace one created through the API); audited."""
    manifest = state.manifest()
    definition = ActivationDefinition.model_validate(body.model_dump())
    configured = state.settings.destinations
    if definition.destination not in configured:
        known = ", ".join(sorted(configured)) or "none (TIDEMARK_DESTINATIONS)"
        raise HTTPException(
            422, f"unknown destination {definition.destination!r} (configured: {known})"
        )
    try:
        with write_transaction(state.sessions) as session:
            return create_activation(
                session,
                definition,
                actor=caller.actor,
                manifest=manifest,
                segments=discover_segments(manifest),
            )
    except ValueError as error:
        code = status.HTTP_409_CONFLICT if "declared in dbt" in str(error) else 422
        raise HTTPException(code, str(error)) from error


@router.post("/preview")
def preview_draft(state: State, _caller: Marketer, body: DraftPreviewRequest) -> MessagePreview:
    """Render a draft's message for one member, before the activation is saved."""
    definition = ActivationDefinition.model_validate(body.definition.model_dump())
    return _preview(state, definition, body.profile_id)


@router.get("/{name}")
def get_one(state: State, _caller: Viewer, name: str = ActivationName) -> ActivationDetail:
    try:
        return read_activation(state, name)
    except UnknownActivationError as error:
        raise _not_found(error) from error


def _preview(
    state: AppState, definition: ActivationDefinition, profile_id: str | None
) -> MessagePreview:
    try:
        return preview_message(state, definition, profile_id)
    except UnknownSegmentError as error:
        raise HTTPException(422, str(error)) from error
    except PreviewError as error:
        raise HTTPException(422, str(error)) from error


@router.post("/{name}/preview")
def preview(
    state: State,
    _caller: Marketer,
    body: PreviewRequest | None = None,
    name: str = ActivationName,
) -> MessagePreview:
    """The message as one segment member would receive it; nothing is planned or sent."""
    definition = _definition(state, name)
    return _preview(state, definition, body.profile_id if body else None)


def _request(
    state: AppState, caller: Principal, name: str, kind: RequestKind, body: RunRequest | None
) -> RunAccepted:
    _definition(state, name)
    try:
        with write_transaction(state.sessions) as session:
            request = enqueue_request(
                session,
                activation_name=name,
                requested_by=caller.actor,
                kind=kind,
                request_id=body.request_id if body else None,
            )
            document = {
                "request_id": request.request_id,
                "kind": request.kind.value,
                "status": request.status.value,
            }
            record_audit(
                session,
                actor=caller.actor,
                action=f"activation.{kind.value}_requested",
                resource_type="activation",
                resource_id=name,
                before=None,
                after=document,
            )
    except RequestConflictError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    return RunAccepted(
        request_id=document["request_id"],
        run_id=document["request_id"],
        activation=name,
        kind=document["kind"],
        status=document["status"],
        status_url=f"/api/v1/runs/{document['request_id']}",
    )


@router.post("/{name}/dry-run", status_code=status.HTTP_202_ACCEPTED)
def dry_run(
    state: State,
    caller: Marketer,
    body: RunRequest | None = None,
    name: str = ActivationName,
) -> RunAccepted:
    """Queue a dry run: the plan's counts, exclusions by reason and samples; nothing sent."""
    return _request(state, caller, name, RequestKind.DRY_RUN, body)


@router.post("/{name}/trigger", status_code=status.HTTP_202_ACCEPTED)
def trigger(
    state: State,
    caller: Marketer,
    body: RunRequest | None = None,
    name: str = ActivationName,
) -> RunAccepted:
    """Queue a run; follow it at `status_url`."""
    return _request(state, caller, name, RequestKind.RUN, body)


@router.post("/{name}/cancel")
def cancel(state: State, caller: Marketer, name: str = ActivationName) -> CancelResult:
    """Stop queued requests and messages not yet sent; what reached a provider stays sent."""
    _definition(state, name)
    with write_transaction(state.sessions) as session:
        done: Cancellation = cancel_activation(session, name, actor=caller.actor, now=utc_now())
    return CancelResult(
        activation=done.activation, requests=done.requests, runs=done.runs, messages=done.messages
    )
