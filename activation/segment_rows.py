"""A segment row as one JSON document, built in SQL the same way on every engine.

The plan hands each member's row to the renderer (`attributes`) and diffs members by a hash
of that row (`row_hash`). Both are spelt out column by column rather than left to an
engine's own row-to-JSON function (DuckDB's `to_json(s)` has no ClickHouse or Snowflake
twin that sqlglot can translate, and each engine prints values its own way). The columns
come from the segment relation itself, so a model's new column is picked up without
configuration; they are written in name order, so reordering a model's select list changes
nothing. Each value is written by its type:

- text as a JSON string, escaped (backslash, quote and every control character);
- booleans as `true` / `false`; integers as digits, decimals with every digit of their
  scale (12.50);
- timestamps as `YYYY-MM-DD HH:MM:SS.ffffff`, dates as `YYYY-MM-DD`, assembled from their
  parts (every engine formats dates its own way);
- floating point as the engine prints it (engines may differ in the last digits);
- anything else (lists, structs) as its text, in a JSON string;
- NULL as `null`, so a value becoming NULL is a change too.

`row_hash` changes exactly when what the renderer would see changes, but it is not taken
over that document: the plan hashes every member of the segment on every run, and escaping
text for JSON (a chain of `replace` per text column) cost ten times the rest of the hash at a
million members. The hash reads each value as itself, preceded by its length (so no value can
run into the next and no escaping is needed), with the column names in front; values of
other types are written as in the document. Only members that are new or changed get their
document built.

Hashes carry a prefix (`ROW_HASH_PREFIX`): a snapshot hash without it was written before,
as the md5 of the document (`document_row_hash_sql`), and is compared that way, so existing
snapshots still tell unchanged members from changed ones.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from connectors.warehouse.base import WarehouseSession

#: Starts every row hash of the current encoding; see the module's docstring.
ROW_HASH_PREFIX = "r2:"

#: JSON's two-character escapes; every other control character becomes \u00XX.
_SHORT_ESCAPES = {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}
_DATE_PARTS = (("year", 4), ("month", 2), ("day", 2))


@dataclass(frozen=True)
class SegmentColumn:
    """A column of a segment relation, with the type the warehouse reports for it."""

    name: str
    type: pa.DataType


def segment_columns(session: WarehouseSession, relation: str) -> list[SegmentColumn]:
    """The relation's columns in name order, typed as the warehouse returns them.

    An empty query's Arrow schema gives the same type vocabulary on every engine (an
    information_schema would give three: `VARCHAR`, `Nullable(String)`, `TEXT`).
    """
    schema = session.query_arrow(f"select * from {relation} limit 0").schema
    return sorted(
        (SegmentColumn(field.name.lower(), field.type) for field in schema),
        key=lambda c: c.name,
    )


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _json_string_sql(value: str) -> str:
    """`value` (a text SQL expression) as a quoted, escaped JSON string."""
    escaped = f"replace(replace({value}, '\\', '\\\\'), '\"', '\\\"')"
    for code in range(32):
        escape = _SHORT_ESCAPES.get(code, f"\\u{code:04x}")
        escaped = f"replace({escaped}, chr({code}), '{escape}')" if code else escaped
    return f"'\"' || {escaped} || '\"'"


def _digits(number: str, width: int) -> str:
    return f"lpad(cast({number} as varchar), {width}, '0')"


def _date_text(ref: str) -> str:
    """`YYYY-MM-DD` from the date's parts: engines' date formatting functions differ (and
    fakesnow ignores the format given to Snowflake's TO_CHAR), their arithmetic does not."""
    parts = [_digits(f"extract({part} from {ref})", width) for part, width in _DATE_PARTS]
    return " || '-' || ".join(parts)


def _time_text(ref: str) -> str:
    """`HH:MM:SS.ffffff`, the seconds and microseconds counted from the minute's start."""
    micros = f"date_diff('microsecond', date_trunc('minute', {ref}), {ref})"
    return (
        f"{_digits(f'extract(hour from {ref})', 2)} || ':' || "
        f"{_digits(f'extract(minute from {ref})', 2)} || ':' || "
        f"{_digits(f'cast(floor({micros} / 1000000) as bigint)', 2)} || '.' || "
        f"{_digits(f'{micros} % 1000000', 6)}"
    )


def _value_sql(column: SegmentColumn, alias: str) -> str:
    """The column's value as JSON text, or SQL NULL when the value is NULL."""
    ref = f"{alias}.{column.name}"
    kind = column.type
    if _is_text(kind):
        return _json_string_sql(ref)
    if pa.types.is_boolean(kind):
        return f"case when {ref} then 'true' when not {ref} then 'false' end"
    if pa.types.is_decimal(kind):
        # The explicit type lets each engine print every digit of the scale (12.50).
        return f"cast(cast({ref} as decimal({kind.precision}, {kind.scale})) as varchar)"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return f"cast({ref} as varchar)"
    if pa.types.is_timestamp(kind):
        return f"'\"' || {_date_text(ref)} || ' ' || {_time_text(ref)} || '\"'"
    if pa.types.is_date(kind):
        return f"'\"' || {_date_text(ref)} || '\"'"
    return _json_string_sql(f"cast({ref} as varchar)")


def attributes_sql(columns: Sequence[SegmentColumn], alias: str) -> str:
    """SQL for the row of `alias` as a JSON object (text), keys in `columns`' order."""
    if not columns:
        raise ValueError("a segment row needs at least one column")
    parts = []
    for index, column in enumerate(columns):
        key = json.dumps(column.name) + ":"
        prefix = ("{" if index == 0 else ",") + key
        parts.append(f"{_sql_string(prefix)} || coalesce({_value_sql(column, alias)}, 'null')")
    return "(" + " || ".join(parts) + " || '}')"


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _is_written_as_itself(kind: pa.DataType) -> bool:
    """Types `_value_sql` writes with its own formatting; the rest it writes as their text."""
    return bool(
        _is_text(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_timestamp(kind)
        or pa.types.is_date(kind)
    )


def _hashed_text(column: SegmentColumn, alias: str) -> str:
    """The column's value as the hash reads it: text unescaped, other types as written in
    the document (lists and structs as their text, without the JSON string around it)."""
    ref = f"{alias}.{column.name}"
    if _is_text(column.type):
        return ref
    if not _is_written_as_itself(column.type):
        return f"cast({ref} as varchar)"
    return _value_sql(column, alias)


def row_hash_sql(columns: Sequence[SegmentColumn], alias: str) -> str:
    """SQL for the row hash of `alias`: `ROW_HASH_PREFIX` and a lowercase hex md5.

    Each value is `<length>:<value>`, NULL is `~`: a value's end is known from its length, so
    two different rows never make the same text, whatever their values contain.
    """
    if not columns:
        raise ValueError("a segment row needs at least one column")
    names = _sql_string(",".join(column.name for column in columns) + "|")
    fields = []
    for column in columns:
        text = _hashed_text(column, alias)
        fields.append(f"coalesce(cast(length({text}) as varchar) || ':' || {text}, '~')")
    return f"({_sql_string(ROW_HASH_PREFIX)} || md5({names} || {' || '.join(fields)}))"


def document_row_hash_sql(attributes: str) -> str:
    """SQL for a row hash as written before `ROW_HASH_PREFIX`: the md5 of the row's document
    (an `attributes_sql` value), to compare snapshots written then."""
    return f"md5({attributes})"
