"""Turn a landing file's bytes into an Arrow table with exactly its dataset's schema.

Sources are allowed small liberties (columns in another order, int64 where int32 is
expected, a timestamp with a zone or another unit); anything that would lose or invent
data is refused with a reason that names the column, and the file goes to quarantine.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.raw_schemas import RawDataset


class BatchRejectedError(ValueError):
    """A landing file that cannot be loaded; the message says why, for the quarantine note."""


def read_parquet(data: bytes) -> pa.Table:
    try:
        return pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as error:
        raise BatchRejectedError(f"not a readable Parquet file: {error}") from error


def _cast_column(column: pa.ChunkedArray, field: pa.Field) -> pa.ChunkedArray:
    if column.type == field.type:
        return column
    if pa.types.is_timestamp(column.type) and pa.types.is_timestamp(field.type):
        # Zoned timestamps are converted to naive UTC; units are widened or narrowed exactly.
        return column.cast(pa.timestamp(field.type.unit, tz="UTC")).cast(field.type)
    try:
        return column.cast(field.type, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise BatchRejectedError(
            f"column {field.name!r} has type {column.type}, expected {field.type}: {error}"
        ) from error


def conform_batch(ds: RawDataset, table: pa.Table) -> pa.Table:
    """Reorder and losslessly cast `table` to the dataset's schema, or explain why not."""
    present = set(table.column_names)
    expected = [f.name for f in ds.schema]
    missing = [name for name in expected if name not in present]
    unexpected = sorted(present - set(expected))
    problems = []
    if missing:
        problems.append(f"missing columns {missing}")
    if unexpected:
        problems.append(f"unexpected columns {unexpected}")
    if problems:
        raise BatchRejectedError(
            f"{ds.name} batch does not match its schema: {'; '.join(problems)} "
            f"(expected exactly {expected})"
        )
    columns = [_cast_column(table.column(f.name), f) for f in ds.schema]
    for field, column in zip(ds.schema, columns, strict=True):
        if not field.nullable and column.null_count:
            raise BatchRejectedError(
                f"column {field.name!r} must not be null; {column.null_count} rows are null"
            )
    key_column = columns[expected.index(ds.key)]
    if table.num_rows and pc.any(pc.equal(pc.utf8_length(key_column), 0)).as_py():
        raise BatchRejectedError(f"column {ds.key!r} has empty ids")
    return pa.Table.from_arrays(columns, schema=ds.schema)
