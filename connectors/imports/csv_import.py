"""Import one CSV file of profiles or events: stream it, check it, land the good rows.

The file is read in chunks of `chunk_rows` records, so a million-row file never has more
than one chunk in memory. Per chunk: every value is checked, a column at a time
(`column_checks`); rows with a problem go to the quarantine file with their row number,
columns and reasons; the good rows become the raw datasets' batches and are written to the
landing zone as Parquet, from where the loader copies them into `raw`. A wrong header
refuses the whole file before anything lands.

The import does not run the landing Great Expectations suite itself: its value checks are
that suite's checks, per value (ids present, timestamps between the suite's bounds, consent
in its vocabulary), so every batch it lands passes it (a test runs the suite on what an
import lands), and the loader runs the suite on every file before loading it. Importing GE
alone took 8 s and 350 MiB, more than checking a million rows now does.

Records are read with Python's csv module rather than polars' reader: it keeps what a
person needs to fix a file (the row number as a spreadsheet shows it, a short row kept whole
in quarantine) and reads any encoding. Python's garbage collector is paused meanwhile
(`collector_pause` says why: it was half of the time).
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from connectors.imports.collector_pause import garbage_collection_paused
from connectors.imports.import_specs import ImportSpec, import_spec
from connectors.imports.quarantine_file import QuarantineFile
from connectors.imports.text_format import CsvFormatError, detect_format, open_records
from connectors.landing.base import LandingZone

DEFAULT_CHUNK_ROWS = 50_000
"""Rows checked and landed together: bounds memory (a chunk's strings and checked values)."""
BLANK_REQUIRED = "required value is blank"
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
        garbage_collection_paused(),
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
    summary.rows_read += len(chunk)
    checked = _checked_rows(spec, names, chunk, now, quarantine, summary)
    if not checked.height:
        return
    for dataset, table in spec.build(checked, now).items():
        landed = landing.write_table(dataset.name, table)
        summary.landing_keys.append(landed.key)
        summary.rows_by_dataset[dataset.name] += table.num_rows
    summary.rows_landed += checked.height


def _checked_rows(
    spec: ImportSpec,
    names: list[str],
    chunk: list[tuple[int, list[str]]],
    now: datetime,
    quarantine: QuarantineFile,
    summary: ImportSummary,
) -> pl.DataFrame:
    """The chunk's good rows, checked, column by column; the others go to quarantine."""
    width = len(names)
    whole: list[tuple[int, list[str]]] = []
    for row_number, record in chunk:
        if len(record) == width:
            whole.append((row_number, record))
        else:
            short = (WHOLE_ROW, f"expected {width} fields, found {len(record)}")
            _quarantine(quarantine, summary, row_number, [short], record)
    fields = list(zip(*(record for _, record in whole), strict=True)) or [()] * width
    texts = pl.DataFrame(
        {
            name: pl.Series(name, column, dtype=pl.String)
            for name, column in zip(names, fields, strict=True)
        }
    ).with_columns(pl.all().str.strip_chars().replace("", None))
    by_name = {column.name: column for column in spec.columns}
    values: dict[str, pl.Series] = {}
    problems: dict[str, pl.Series] = {}
    for name in names:
        column = by_name[name]
        values[name], problem = column.check(texts[name], texts, now)
        if column.required:
            problem = texts.select(
                pl.when(pl.col(name).is_null()).then(pl.lit(BLANK_REQUIRED)).otherwise(problem)
            )[:, 0]
        problems[name] = problem.alias(name)
    refused = pl.DataFrame(problems).select(pl.any_horizontal(pl.all().is_not_null()))[:, 0]
    for index in refused.arg_true().to_list():
        row_number, record = whole[index]
        reasons = [(name, problems[name][index]) for name in names if problems[name][index]]
        _quarantine(quarantine, summary, row_number, reasons, record)
    return pl.DataFrame(values).filter(~refused)


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
