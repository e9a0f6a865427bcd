"""How the JSON API answers what goes wrong: always a 4xx or a 503 that says why, never a 500.

- Validation errors keep FastAPI's `detail` list and add `message`, one line naming each
  field (`body.message.subject: Field required`), for people reading a response by eye.
- A warehouse read with no last good result while a build holds DuckDB is a 503 with
  `Retry-After` (see `api.reads.freshness`); so is a write that needs the warehouse then,
  and a request needing the dbt manifest before the project has ever parsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.reads.freshness import RETRY_AFTER_S, WarehouseUnavailableError
from api.state import ManifestUnavailableError
from connectors.warehouse.duckdb import WarehouseBusyError


def field_path(location: Sequence[Any]) -> str:
    """`("body", "message", "subject")` → `body.message.subject`."""
    return ".".join(str(part) for part in location) or "request"


def validation_message(errors: Sequence[Any]) -> str:
    return "; ".join(f"{field_path(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors)


async def _invalid_request(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = error.errors()
    return JSONResponse(
        status_code=422,
        content={"detail": jsonable_encoder(errors), "message": validation_message(errors)},
    )


async def _unavailable(_request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, WarehouseUnavailableError):
        message = str(error)
    elif isinstance(error, ManifestUnavailableError):
        message = "the dbt project does not parse yet, so segments are unknown; try again soon"
    else:
        message = "the warehouse is busy (a dbt build or loader run holds it); try again shortly"
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": message},
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(WarehouseUnavailableError, _unavailable)
    app.add_exception_handler(WarehouseBusyError, _unavailable)
    app.add_exception_handler(ManifestUnavailableError, _unavailable)
