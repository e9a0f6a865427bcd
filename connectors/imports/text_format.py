"""How a customer's CSV file is written: its encoding and its delimiter, found before reading.

Spreadsheets export UTF-8 with or without a byte-order mark, older tools Latin-1; Excel in
much of Europe separates with `;`, databases often with tabs or `|`. The encoding is decided
by decoding the whole file once as UTF-8, in blocks (a Latin-1 accent on row 900 000 would
otherwise stop an import halfway); the delimiter is the candidate that splits the header line
most often, because the header is the one line whose contents we know the shape of.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DELIMITERS = (",", ";", "\t", "|")
_SCAN_BLOCK = 1 << 20
_HEADER_LIMIT = 64 * 1024


class CsvFormatError(ValueError):
    """The file cannot be read as CSV at all (empty, binary, an unsupported encoding)."""


@dataclass(frozen=True)
class CsvFormat:
    """The encoding and delimiter a file is read with."""

    encoding: str
    delimiter: str

    def describe(self) -> str:
        names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
        return f"{self.encoding}, {names.get(self.delimiter, repr(self.delimiter))}-separated"


def detect_encoding(path: Path) -> str:
    """`utf-8-sig` (with a BOM), `utf-8`, `utf-16` (with its BOM), else `latin-1`."""
    with path.open("rb") as handle:
        start = handle.read(4)
        if start.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        elif start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        else:
            encoding = "utf-8"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while block := handle.read(_SCAN_BLOCK):
                if b"\x00" in block:
                    raise CsvFormatError("the file contains NUL bytes: it is not a text CSV file")
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"  # every byte sequence is Latin-1; the file is not UTF-8
    return encoding


def detect_delimiter(header_line: str) -> str:
    """The candidate delimiter that occurs most often in the header line (`,` on a tie)."""
    counts = {candidate: header_line.count(candidate) for candidate in DELIMITERS}
    best = max(DELIMITERS, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


def detect_format(
    path: Path, *, encoding: str | None = None, delimiter: str | None = None
) -> CsvFormat:
    """The file's format; an explicit encoding or delimiter is used as given."""
    chosen_encoding = encoding or detect_encoding(path)
    if delimiter is None:
        with path.open(encoding=chosen_encoding, newline="") as text:
            header = text.readline(_HEADER_LIMIT)
        if not header.strip():
            raise CsvFormatError("the file is empty: expected a header line")
        delimiter = detect_delimiter(header)
    if len(delimiter) != 1:
        raise CsvFormatError(f"a delimiter is one character, not {delimiter!r}")
    return CsvFormat(encoding=chosen_encoding, delimiter=delimiter)


@contextmanager
def open_records(path: Path, fmt: CsvFormat) -> Iterator[tuple[list[str], RecordReader]]:
    """The header and a reader of the records after it (quoted newlines stay in their field)."""
    with path.open(encoding=fmt.encoding, newline="") as text:
        reader = csv.reader(text, delimiter=fmt.delimiter, strict=False)
        try:
            header = next(reader)
        except StopIteration:
            raise CsvFormatError("the file is empty: expected a header line") from None
        except csv.Error as error:
            raise CsvFormatError(f"the header line is not valid CSV: {error}") from error
        yield header, RecordReader(reader)


class RecordReader:
    """Records with their row numbers: the header is row 1 and a record is one row however
    many lines its quoted fields span, as a spreadsheet shows it."""

    def __init__(self, reader: Iterator[list[str]]) -> None:
        self._reader = reader
        self.row_number = 1

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        while True:
            try:
                record = next(self._reader)
            except StopIteration:
                return
            except csv.Error as error:  # e.g. a field longer than csv's limit (128 KiB)
                raise CsvFormatError(
                    f"row {self.row_number + 1} is not readable CSV: {error}"
                ) from error
            self.row_number += 1
            if record:  # a blank line carries nothing
                yield self.row_number, record
