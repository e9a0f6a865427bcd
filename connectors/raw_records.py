"""JSON records from outside (the ingest API) checked one by one into a landing batch.

The loader refuses a landing *file* whose schema or expectations fail, which is right for a
file but wrong for an API batch: one bad record would sink its good neighbours. So records
are checked here, each against the same contract the loader applies later (the dataset's
schema from `raw_schemas`, the plausible time range and the closed vocabularies from
`loader.expectations`), and only the ones that pass become the batch. A record that passes
here is one the loader will accept; a record that fails is reported by index and field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
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


def _value(ds: RawDataset, column: pa.Field, value: Any, now: datetime) -> Any:
    if value is None:
        if not column.nullable:
            raise _FieldError(column.name, "is required")
        return None
    if pa.types.is_timestamp(column.type):
        return _timestamp(column.name, value, now)
    if pa.types.is_string(column.type):
        text = _text(column.name, value)
        if not column.nullable and not text.strip():
            raise _FieldError(column.name, "must not be empty")
        allowed = VOCABULARIES.get(ds.name, {}).get(column.name)
        if allowed is not None and text not in allowed:
            raise _FieldError(column.name, f"must be one of {', '.join(allowed)}")
        return text
    return _number(column.name, value, column.type)


def _row(ds: RawDataset, record: Any, defaults: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    if not isinstance(record, Mapping):
        raise _FieldError(None, f"a record must be a JSON object, got {type(record).__name__}")
    known = ds.schema.names
    unknown = sorted(set(record) - set(known))
    if unknown:
        raise _FieldError(unknown[0], f"is not a field of {ds.name} (fields: {', '.join(known)})")
    row = {}
    for column in ds.schema:
        value = record.get(column.name, defaults.get(column.name))
        row[column.name] = _value(ds, column, value, now)
    return row


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
    columns: dict[str, list[Any]] = {name: [] for name in ds.schema.names}
    batch = CheckedBatch(table=ds.schema.empty_table())
    for index, record in enumerate(records):
        try:
            row = _row(ds, record, fill, moment)
        except _FieldError as error:
            batch.errors.append(RecordError(index, error.field_name, str(error)))
            continue
        batch.accepted_indexes.append(index)
        for name, value in row.items():
            columns[name].append(value)
    # conform_batch is the loader's own schema gate: what passes it here loads later.
    batch.table = conform_batch(ds, pa.Table.from_pydict(columns, schema=ds.schema))
    return batch
