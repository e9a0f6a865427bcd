"""JSON records from outside (the ingest API) checked one by one into a landing batch.

The loader refuses a landing *file* whose schema or expectations fail, which is right for a
file but wrong for an API batch: one bad record would sink its good neighbours. So records
are checked here, each against the same contract the loader applies later (the dataset's
schema from `raw_schemas`, the plausible time range and the closed vocabularies from
`loader.expectations`), and only the ones that pass become the batch. A record that passes
here is one the loader will accept; a record that fails is reported by index and field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pyarrow as pa

from connectors.loader.conform import conform_batch
from connectors.loader.expectations import EARLIEST_PLAUSIBLE, FUTURE_TOLERANCE, VOCABULARIES
from connectors.raw_schemas import RawDataset

INT32_RANGE = (-(2**31), 2**31 - 1)
MAX_TEXT_CHARS = 10_000
"""A longer string is almost certainly a client bug (a document pasted into a field)."""


@dataclass(frozen=True)
class RecordError:
    """Why one record was refused: its position in the batch, the field, the problem."""

    index: int
    field: str | None
    message: str


@dataclass
class CheckedBatch:
    """The records that passed, as an Arrow table of the dataset's schema, and the rest."""

    table: pa.Table
    accepted_indexes: list[int] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)


class _FieldError(ValueError):
    def __init__(self, field_name: str | None, message: str) -> None:
        super().__init__(message)
        self.field_name = field_name


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _FieldError(name, f"must be a string, got {type(value).__name__}")
    if len(value) > MAX_TEXT_CHARS:
        raise _FieldError(name, f"is longer than {MAX_TEXT_CHARS} characters")
    return value


def _timestamp(name: str, value: Any, now: datetime) -> datetime:
    if not isinstance(value, str):
        raise _FieldError(name, "must be an ISO 8601 timestamp string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _FieldError(name, f"is not an ISO 8601 timestamp: {value[:40]!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    if moment < EARLIEST_PLAUSIBLE:
        raise _FieldError(name, f"is before {EARLIEST_PLAUSIBLE:%Y-%m-%d}")
    if moment > now + FUTURE_TOLERANCE:
        raise _FieldError(name, "is more than a day in the future (a time-zone or unit bug?)")
    return moment


def _number(name: str, value: Any, dtype: pa.DataType) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _FieldError(name, f"must be a number, got {type(value).__name__}")
    if pa.types.is_integer(dtype):
        if isinstance(value, float) and not value.is_integer():
            raise _FieldError(name, "must be a whole number")
        whole = int(value)
        if not INT32_RANGE[0] <= whole <= INT32_RANGE[1]:
            raise _FieldError(name, "is out of range for a 32-bit integer")
        return whole
    if value != value or value in (float("inf"), float("-inf")):
        raise _FieldError(name, "must be a finite number")
    return float(value)


_Check = Callable[[str, Any, datetime], Any]


@dataclass(frozen=True)
class _Column:
    """One field's rule, worked out once per dataset rather than once per value."""

    name: str
    nullable: bool
    check: _Check


def _string_check(nullable: bool, allowed: list[str] | None) -> _Check:
    def check(name: str, value: Any, now: datetime) -> str:
        text = _text(name, value)
        if not nullable and not text.strip():
            raise _FieldError(name, "must not be empty")
        if allowed is not None and text not in allowed:
            raise _FieldError(name, f"must be one of {', '.join(allowed)}")
        return text

    return check


def _number_check(dtype: pa.DataType) -> _Check:
    return lambda name, value, now: _number(name, value, dtype)


@lru_cache(maxsize=16)
def _columns(ds: RawDataset) -> tuple[_Column, ...]:
    vocabularies = VOCABULARIES.get(ds.name, {})
    columns = []
    for field_ in ds.schema:
        check: _Check
        if pa.types.is_timestamp(field_.type):
            check = _timestamp
        elif pa.types.is_string(field_.type):
            check = _string_check(field_.nullable, vocabularies.get(field_.name))
        else:
            check = _number_check(field_.type)
        columns.append(_Column(field_.name, field_.nullable, check))
    return tuple(columns)


def _row(ds: RawDataset, record: Any, defaults: Mapping[str, Any], now: datetime) -> list[Any]:
    """The record's values in schema order, or `_FieldError` for its first problem."""
    if not isinstance(record, Mapping):
        raise _FieldError(None, f"a record must be a JSON object, got {type(record).__name__}")
    known = ds.schema.names
    if not set(known).issuperset(record):
        unknown = sorted(set(record) - set(known))
        raise _FieldError(unknown[0], f"is not a field of {ds.name} (fields: {', '.join(known)})")
    values: list[Any] = []
    for column in _columns(ds):
        value = record.get(column.name)
        if value is None:
            value = defaults.get(column.name)
        if value is None:
            if not column.nullable:
                raise _FieldError(column.name, "is required")
            values.append(None)
        else:
            values.append(column.check(column.name, value, now))
    return values


def check_records(
    ds: RawDataset,
    records: Sequence[Any],
    *,
    defaults: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> CheckedBatch:
    """Check each record; the good ones become one table with exactly `ds`'s schema.

    `defaults` fill fields a record leaves out (the API sets `source`). `now` (naive UTC)
    bounds future timestamps the way the loader's expectations will.
    """
    moment = (now or datetime.now(UTC)).replace(tzinfo=None)
    fill = defaults or {}
    columns: list[list[Any]] = [[] for _ in ds.schema.names]
    batch = CheckedBatch(table=ds.schema.empty_table())
    for index, record in enumerate(records):
        try:
            row = _row(ds, record, fill, moment)
        except _FieldError as error:
            batch.errors.append(RecordError(index, error.field_name, str(error)))
            continue
        batch.accepted_indexes.append(index)
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    # conform_batch is the loader's own schema gate: what passes it here loads later.
    table = pa.Table.from_arrays(
        [pa.array(values, type=f.type) for values, f in zip(columns, ds.schema, strict=True)],
        schema=ds.schema,
    )
    batch.table = conform_batch(ds, table)
    return batch
