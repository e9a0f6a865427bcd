"""`POST /api/v1/events`, `POST /api/v1/profiles`: batches of records into the landing zone.

The answer comes only after the accepted records are in one fsync'd (or S3-acknowledged)
landing file, so a 202 means they survive a crash; the loader takes the file from there.
Each record is checked on its own (`connectors.raw_records`): good ones are accepted, bad
ones are listed by index and field, and a batch with no good record writes nothing (422).

Retries: the client may send the same batch again (after a timeout, say). That lands a
second file, because raw tables are append-only, but nothing is counted twice: events are
keyed by `event_id` (the `events` mart keeps one row per id) and profiles by `profile_id`
(the newest `updated_at` wins, and an identical copy changes nothing).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.auth import Marketer
from api.landing import Landing
from api.request_body import parse_json, read_body
from connectors.landing import LandingZone
from connectors.raw_records import check_records
from connectors.raw_schemas import EVENTS, PROFILES, RawDataset

MAX_RECORDS = 10_000
MAX_BODY_BYTES = 10 * 1024 * 1024
API_SOURCE = "api"
"""The `source` of records that do not name their own."""

router = APIRouter(prefix="/api/v1", tags=["ingest"])


class RecordProblem(BaseModel):
    index: int
    field: str | None
    message: str


class IngestResult(BaseModel):
    """What happened to a batch: how many records landed, in which file, and what was refused."""

    accepted: int
    rejected: int
    landing_key: str | None
    errors: list[RecordProblem]


def _request_schema(ds: RawDataset) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for column in ds.schema:
        if pa.types.is_timestamp(column.type):
            spec: dict[str, Any] = {"type": "string", "format": "date-time"}
        elif pa.types.is_integer(column.type):
            spec = {"type": "integer"}
        elif pa.types.is_floating(column.type):
            spec = {"type": "number"}
        else:
            spec = {"type": "string"}
        properties[column.name] = {"anyOf": [spec, {"type": "null"}]} if column.nullable else spec
    required = [name for name in ds.required if name != "source"]
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["records"],
                    "additionalProperties": False,
                    "properties": {
                        "records": {
                            "type": "array",
                            "maxItems": MAX_RECORDS,
                            "items": {
                                "type": "object",
                                "required": required,
                                "additionalProperties": False,
                                "properties": properties,
                            },
                        }
                    },
                }
            }
        },
    }


def _records(document: Any) -> list[Any]:
    if not isinstance(document, dict) or set(document) != {"records"}:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            'the body must be a JSON object with one field, "records": a list of records',
        )
    records = document["records"]
    if not isinstance(records, list):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, '"records" must be a list')
    if not records:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, '"records" is empty')
    if len(records) > MAX_RECORDS:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f'"records" holds {len(records)} records; the limit is {MAX_RECORDS} per batch',
        )
    return records


def _land(ds: RawDataset, body: bytes, landing: LandingZone) -> IngestResult:
    records = _records(parse_json(body))
    checked = check_records(ds, records, defaults={"source": API_SOURCE})
    problems = [
        RecordProblem(index=e.index, field=e.field, message=e.message) for e in checked.errors
    ]
    if not checked.accepted_indexes:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            {
                "message": "no record in the batch is valid; nothing was written",
                "errors": [p.model_dump() for p in problems],
            },
        )
    landed = landing.write_table(ds.name, checked.table)
    return IngestResult(
        accepted=checked.table.num_rows,
        rejected=len(problems),
        landing_key=landed.key,
        errors=problems,
    )


async def _ingest(ds: RawDataset, request: Request, landing: LandingZone) -> IngestResult:
    body = await read_body(request, MAX_BODY_BYTES)
    # Parsing, checking and the durable write block: off the event loop, in the thread pool.
    return await run_in_threadpool(_land, ds, body, landing)


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra={"requestBody": _request_schema(EVENTS)},
    summary="Ingest a batch of behavioural events",
)
async def ingest_events(request: Request, caller: Marketer, landing: Landing) -> IngestResult:
    """Accepted events are durably in the landing zone when this answers 202."""
    return await _ingest(EVENTS, request, landing)


@router.post(
    "/profiles",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra={"requestBody": _request_schema(PROFILES)},
    summary="Ingest a batch of profile records",
)
async def ingest_profiles(request: Request, caller: Marketer, landing: Landing) -> IngestResult:
    """Accepted profiles are durably in the landing zone when this answers 202."""
    return await _ingest(PROFILES, request, landing)
