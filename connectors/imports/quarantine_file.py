"""The quarantine CSV of an import: every refused row, why, and its original fields.

One line per refused row: `row` (its number in the file, header = 1), `columns` (the
offending columns, `;`-separated), `reasons` (one per column, same order), then the row's
fields as they were, under the file's own header, so a person can fix them and import the
quarantine file's tail again. Written in UTF-8 with commas whatever the input used. The file
is only created when a row is refused.
"""

from __future__ import annotations

import csv
from pathlib import Path
from types import TracebackType
from typing import IO, Any

QUARANTINE_COLUMNS = ["row", "columns", "reasons"]


class QuarantineFile:
    """Appends refused rows to `path`, creating it (with its header) at the first one."""

    def __init__(self, path: Path, source_header: list[str]) -> None:
        self.path = path
        self._source_header = source_header
        self._handle: IO[str] | None = None
        self._writer: Any = None
        self.rows = 0

    def add(self, row_number: int, problems: list[tuple[str, str]], record: list[str]) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow([*QUARANTINE_COLUMNS, *self._source_header])
        columns = "; ".join(column for column, _ in problems)
        reasons = "; ".join(reason for _, reason in problems)
        self._writer.writerow([row_number, columns, reasons, *record])
        self.rows += 1

    def __enter__(self) -> QuarantineFile:
        # A quarantine file left by an earlier import of the same file would be mistaken for
        # this one's.
        self.path.unlink(missing_ok=True)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.close()
