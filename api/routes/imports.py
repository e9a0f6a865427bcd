"""`/api/v1/imports` (marketer): upload a CSV of profiles or events; download its refused rows.

The upload is streamed to a file under `<home>/imports/<id>/` (never held in memory), then
imported by the same code as `tidemark import`: the answer, once the good rows are in the
landing zone, is the import's summary. A file with the wrong header is a 422 that lists the
expected columns; nothing of it lands. Refused rows stay downloadable as CSV.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import APIRouter, File, HTTPException, Path, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel

from api.auth import Marketer
from api.landing import Landing
from api.state import State
from connectors.imports import CsvFormatError, HeaderMismatchError, ImportSummary, import_csv
from connectors.landing import LandingZone
from connectors.ops_store.audit import record_audit
from connectors.ops_store.engine import write_transaction
from connectors.settings import Settings

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])

MAX_UPLOAD_BYTES = 2 * 1024**3
_COPY_CHUNK = 1024 * 1024
ImportId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The import's id.")]


class ImportResult(BaseModel):
    """An import's summary: rows read, landed and refused, and where the refused rows are."""

    import_id: str
    kind: str
    file_name: str
    file_format: str
    rows_read: int
    rows_landed: int
    rows_quarantined: int
    problems_by_column: dict[str, int]
    rows_by_dataset: dict[str, int]
    landing_files: int
    quarantine_url: str | None
    seconds: float


def _import_folder(settings: Settings, import_id: str) -> FilePath:
    return settings.home / "imports" / import_id


def _quarantine_path(settings: Settings, import_id: str) -> FilePath:
    return _import_folder(settings, import_id) / "quarantine.csv"


async def _save_upload(upload: UploadFile, target: FilePath) -> None:
    """Copy the upload to `target` chunk by chunk; 413 past the size limit."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with target.open("wb") as handle:
        while chunk := await upload.read(_COPY_CHUNK):
            written += len(chunk)
            if written > MAX_UPLOAD_BYTES:
                handle.close()
                shutil.rmtree(target.parent, ignore_errors=True)
                raise HTTPException(
                    status.HTTP_413_CONTENT_TOO_LARGE,
                    f"the file is larger than the limit of {MAX_UPLOAD_BYTES} bytes; split it",
                )
            handle.write(chunk)


def _run_import(
    kind: str, source: FilePath, quarantine: FilePath, landing: LandingZone
) -> ImportSummary:
    try:
        return import_csv(kind, source, landing, quarantine_path=quarantine)
    except (HeaderMismatchError, CsvFormatError, LookupError) as error:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{error} Nothing was imported.",
        ) from None


@router.post(
    "/{kind}",
    status_code=status.HTTP_201_CREATED,
    summary="Import a CSV file of profiles or events",
)
async def create_import(
    kind: Literal["profiles", "events"],
    file: Annotated[UploadFile, File(description="The CSV file (UTF-8 or Latin-1; , ; tab |).")],
    caller: Marketer,
    state: State,
    landing: Landing,
) -> ImportResult:
    """Good rows are in the landing zone when this answers; the loader takes them into `raw`."""
    import_id = uuid.uuid4().hex
    source = _import_folder(state.settings, import_id) / "upload.csv"
    await _save_upload(file, source)
    quarantine = _quarantine_path(state.settings, import_id)
    try:
        summary = await run_in_threadpool(_run_import, kind, source, quarantine, landing)
    finally:
        source.unlink(missing_ok=True)  # the good rows are landed; the refused ones kept apart
    result = ImportResult(
        import_id=import_id,
        kind=kind,
        file_name=file.filename or "upload.csv",
        file_format=summary.file_format,
        rows_read=summary.rows_read,
        rows_landed=summary.rows_landed,
        rows_quarantined=summary.rows_quarantined,
        problems_by_column=dict(summary.problems_by_column),
        rows_by_dataset=dict(summary.rows_by_dataset),
        landing_files=len(summary.landing_keys),
        quarantine_url=(
            f"{router.prefix}/{import_id}/quarantine" if summary.quarantine_path else None
        ),
        seconds=round(summary.seconds, 3),
    )
    with write_transaction(state.sessions) as session:
        record_audit(
            session,
            actor=caller.actor,
            action=f"import.{kind}",
            resource_type="import",
            resource_id=import_id,
            before=None,
            after=result.model_dump(),
        )
    return result


@router.get(
    "/{import_id}/quarantine",
    response_class=FileResponse,
    summary="Download an import's refused rows (CSV: row, columns, reasons, original fields)",
)
def import_quarantine(import_id: ImportId, caller: Marketer, state: State) -> FileResponse:
    path = _quarantine_path(state.settings, import_id)
    if not path.is_file():
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"import {import_id} has no refused rows (or does not exist)"
        )
    return FileResponse(path, media_type="text/csv", filename=f"quarantine-{import_id}.csv")
