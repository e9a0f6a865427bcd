"""Vectorised string building for the demo generator: ids, phone numbers, addresses.

Formatting 20 million ids one f-string at a time would take longer than generating the data.
Ids are fixed-width (constants and zero-padded numbers, plus at most one suffix from a small
table), so they are laid out as a byte matrix with numpy, two digits at a time, and handed to
Arrow as a `string` array without copying. Free-form text (addresses, phone numbers) goes
through polars. Every function returns Arrow `string` arrays, the type the landing schemas use.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

Bytes = NDArray[np.uint8]
IdPart = str | Bytes
"""A constant, or one row of text per id (e.g. from `digits`)."""

_TWO_DIGITS = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), dtype=np.uint8).view(
    np.uint16
)
_MAX_OFFSET = 2**31 - 1


def digits(numbers: NDArray[np.int64], width: int) -> Bytes:
    """Each number as `width` zero-padded ASCII digits, one row per number.

    A number too wide for its field is an error, never silently truncated. Digits are laid
    down two at a time from a lookup table; rows can be gathered (`np.take(..., axis=0)`) to
    repeat a profile's digits for each of its events without formatting them again.
    """
    if numbers.size and (numbers.min() < 0 or numbers.max() >= 10**width):
        raise ValueError(f"number does not fit in a {width}-digit id field")
    pairs = (width + 1) // 2
    out = np.empty((numbers.size, pairs), dtype=np.uint16)
    rest = numbers.astype(np.int64, copy=True)
    for column in range(pairs - 1, -1, -1):
        out[:, column] = _TWO_DIGITS[rest % 100]
        rest //= 100
    text = out.view(np.uint8).reshape(numbers.size, 2 * pairs)
    return text[:, 2 * pairs - width :]


def fixed_ids(
    parts: Sequence[IdPart],
    count: int,
    *,
    suffixes: Sequence[str] = (),
    suffix_codes: NDArray[np.int64] | None = None,
) -> pa.StringArray:
    """Ids made of constants and per-row text, optionally ending in `suffixes[code]`.

    `fixed_ids(["ev_", digits(profile, 7), "_", digits(step, 2)], n)` gives "ev_0000042_07".
    """
    blocks: list[Bytes] = []
    for part in parts:
        if isinstance(part, str):
            text = np.frombuffer(part.encode(), dtype=np.uint8)
            blocks.append(np.broadcast_to(text, (count, text.size)))
        else:
            blocks.append(part)
    row_lengths = None
    if suffix_codes is not None:
        table, lengths = _padded_table(suffixes)
        row_lengths = sum(b.shape[1] for b in blocks) + lengths[suffix_codes]
        blocks.append(np.take(table, suffix_codes, axis=0))
    matrix = np.empty((count, sum(b.shape[1] for b in blocks)), dtype=np.uint8)
    position = 0
    for block in blocks:
        matrix[:, position : position + block.shape[1]] = block
        position += block.shape[1]
    return _strings(matrix, row_lengths)


def numbered(prefix: str, numbers: NDArray[np.int64], width: int = 0) -> pa.StringArray:
    """`prefix` followed by each number in decimal, zero-padded to `width` digits (polars)."""
    text = pl.Series(numbers, dtype=pl.Int64).cast(pl.String)
    if width:
        text = text.str.zfill(width)
    return arrow_strings(prefix + text)


def arrow_strings(series: pl.Series) -> pa.StringArray:
    """A polars string column as an Arrow `string` array (32-bit offsets)."""
    array = series.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(pa.string())
    assert isinstance(array, pa.StringArray)
    return array


def picked(
    values: pa.Array, indices: NDArray[np.int64], missing: NDArray[np.bool_] | None = None
) -> pa.Array:
    """`values[indices]`, with nulls where `missing` is set (a vectorised lookup table)."""
    index_array = pa.array(indices, mask=missing) if missing is not None else pa.array(indices)
    return values.take(index_array)


def nulled(values: pa.Array, missing: NDArray[np.bool_]) -> pa.Array:
    """`values` with nulls where `missing` is set."""
    return pc.if_else(pa.array(~missing), values, pa.scalar(None, values.type))


def _padded_table(texts: Sequence[str]) -> tuple[Bytes, NDArray[np.int64]]:
    encoded = [t.encode() for t in texts]
    width = max((len(e) for e in encoded), default=0)
    table = np.zeros((len(encoded), width), dtype=np.uint8)
    for row, text in enumerate(encoded):
        table[row, : len(text)] = np.frombuffer(text, dtype=np.uint8)
    return table, np.asarray([len(e) for e in encoded], dtype=np.int64)


def _strings(matrix: Bytes, row_lengths: NDArray[np.int64] | None) -> pa.StringArray:
    """Rows of a byte matrix as strings; with `row_lengths`, each row's padding is dropped."""
    count, width = matrix.shape
    if row_lengths is None:
        data = matrix.reshape(-1)
        offsets = np.arange(0, (count + 1) * width, width, dtype=np.int64)
    else:
        data = matrix[np.arange(width) < row_lengths[:, None]]
        offsets = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(row_lengths, out=offsets[1:])
    if offsets[-1] > _MAX_OFFSET:
        raise ValueError("too much text for one Arrow string array; use smaller chunks")
    array = pa.StringArray.from_buffers(
        count, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)
    )
    assert isinstance(array, pa.StringArray)
    return array
