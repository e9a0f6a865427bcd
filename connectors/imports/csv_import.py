"""Import one CSV file of profiles or events: stream it, check it, land the good rows.

The file is read in chunks of `chunk_rows` records, so a million-row file never has more
than one chunk in memory. Per chunk: every value is checked (`value_checks`); rows with a
problem go to the quarantine file with their row number, columns and reasons; the good rows
become the raw datasets' batches, pass the landing Great Expectations suite (the one the
loader runs, so what lands will load) and are written to the landing zone as Parquet, from
where the loader copies them into `raw`. A wrong header refuses the whole file before
anything lands.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from connectors.imports.import_specs import ImportSpec, Rows, import_spec
from connectors.imports.quarantine_file import QuarantineFile
from connectors.imports.text_format import CsvFormatError, detect_format, open_records
from connectors.imports.value_checks import ValueProblem
from connectors.landing.base import LandingZone
from connectors.loader.expectations import validate_batch

DEFAULT_CHUNK_ROWS = 50_000
"""Rows checked and landed together: bounds memory (a chunk's strings and checked values)."""
_NO_ROW: dict[str, str] = {}
WHOLE_ROW = "(row)"
"""The `columns` entry of a problem that concerns the row rather than one field."""


@dataclass
class ImportSummary:
    """What an import did: rows read, landed and quarantined, and where everything went."""

    kind: str
    file_format: str = ""
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    problems_by_column: Counter[str] = field(default_factory=Counter)
    rows_by_dataset: Counter[str] = field(default_factory=Counter)
    landing_keys: list[str] = field(default_factory=list)
    quarantine_path: Path | None = None
    seconds: float = 0.0


def import_csv(
    kind: str,
    path: Path,
    landing: LandingZone,
    *,
    quarantine_path: Path,
    now: datetime | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> ImportSummary:
    """Import `path` as `kind` (profiles or events); see the module docstring."""
    started = time.perf_counter()
    spec = import_spec(kind)
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    fmt = detect_format(path, encoding=encoding, delimiter=delimiter)
    summary = ImportSummary(kind=kind, file_format=fmt.describe())
    with (
        open_records(path, fmt) as (header, records),
        QuarantineFile(quarantine_path, header) as quarantine,
    ):
        names = spec.match_header(header)
        stream = iter(records)
        try:
            while chunk := list(itertools.islice(stream, chunk_rows)):
                _import_chunk(spec, names, chunk, moment, landing, quarantine, summary)
        except CsvFormatError as error:
            raise CsvFormatError(
                f"{error}. The import stopped there: {summary.rows_landed} rows before it "
                f"landed, {summary.rows_quarantined} were quarantined; importing the fixed "
                "file again is safe (the newest version of a profile or event wins)."
            ) from error
    summary.quarantine_path = quarantine_path if quarantine.rows else None
    summary.seconds = time.perf_counter() - started
    return summary


def _import_chunk(
    spec: ImportSpec,
    names: list[str],
    chunk: list[tuple[int, list[str]]],
    now: datetime,
    landing: LandingZone,
    quarantine: QuarantineFile,
    summary: ImportSummary,
) -> None:
    rows, good = _checked_rows(spec, names, chunk, now, quarantine, summary)
    summary.rows_read += len(chunk)
    if not good:
        return
    tables = spec.build(rows, len(good), now)
    for dataset, table in tables.items():
        verdict = validate_batch(dataset, table, now)
        if not verdict.success:
            # The row checks should have caught anything the suite refuses; if they did not,
            # the chunk is set aside whole rather than landed half-right.
            reason = f"batch failed the {dataset.name} expectations: {'; '.join(verdict.failures)}"
            for row_number, record in good:
                _quarantine(quarantine, summary, row_number, [(WHOLE_ROW, reason)], record)
            return
    for dataset, table in tables.items():
        landed = landing.write_table(dataset.name, table)
        summary.landing_keys.append(landed.key)
        summary.rows_by_dataset[dataset.name] += table.num_rows
    summary.rows_landed += len(good)


def _checked_rows(
    spec: ImportSpec,
    names: list[str],
    chunk: list[tuple[int, list[str]]],
    now: datetime,
    quarantine: QuarantineFile,
    summary: ImportSummary,
) -> tuple[Rows, list[tuple[int, list[str]]]]:
    by_name = {column.name: column for column in spec.columns}
    columns = [by_name[name] for name in names]
    width = len(names)
    reads_row = any(column.reads_row for column in columns)
    values: Rows = {name: [] for name in names}
    good: list[tuple[int, list[str]]] = []
    for row_number, record in chunk:
        if len(record) != width:
            problem = (WHOLE_ROW, f"expected {width} fields, found {len(record)}")
            _quarantine(quarantine, summary, row_number, [problem], record)
            continue
        raw = dict(zip(names, record, strict=True)) if reads_row else _NO_ROW
        checked: list[object] = []
        problems: list[tuple[str, str]] = []
        for column, text in zip(columns, record, strict=True):
            value = text.strip()
            if not value:
                if column.required:
                    problems.append((column.name, "required value is blank"))
                checked.append(None)
                continue
            try:
                checked.append(column.check(value, raw, now) if column.check else value)
            except ValueProblem as problem:
                problems.append((column.name, str(problem)))
        if problems:
            _quarantine(quarantine, summary, row_number, problems, record)
            continue
        for name, stored in zip(names, checked, strict=True):
            values[name].append(stored)
        good.append((row_number, record))
    return values, good


def _quarantine(
    quarantine: QuarantineFile,
    summary: ImportSummary,
    row_number: int,
    problems: list[tuple[str, str]],
    record: list[str],
) -> None:
    quarantine.add(row_number, problems, record)
    summary.rows_quarantined += 1
    for column, _ in problems:
        summary.problems_by_column[column] += 1
