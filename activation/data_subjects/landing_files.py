"""Take an erased profile's rows out of the landing files they arrived in.

Landing files are immutable, with one exception: an erasure. Deleting the rows from `raw`
alone would leave the personal data in the files (and a reload from them would bring it
back). The files to touch are known exactly: every `raw` row carries `_landing_key`, the file
it came from. Each such file is rewritten under the same key without the profile's rows,
through the zone's own atomic `put` (a reader sees the old file or the new one, never half);
the loader's manifest keeps the key as loaded, so the file is never loaded twice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from activation.data_subjects.subject_data import ADDRESS_COLUMNS, PROFILE_COLUMN, SubjectTable
from connectors.landing import LandingZone
from connectors.landing.base import parquet_bytes
from connectors.loader.conform import read_parquet
from connectors.warehouse.base import WarehouseSession
from connectors.warehouse.raw_tables import RAW_SCHEMA

LANDING_KEY_COLUMN = "_landing_key"
_PHONE_SEPARATORS = r"[\s().-]"


def landing_keys_holding(
    session: WarehouseSession,
    tables: Sequence[SubjectTable],
    profile_id: str,
    addresses: Collection[str],
) -> set[str]:
    """The landing files that the profile's `raw` rows were loaded from."""
    keys: set[str] = set()
    for table in tables:
        if table.schema != RAW_SCHEMA:
            continue
        condition, params = table.for_profile(profile_id, sorted(addresses))
        found = session.query_arrow(
            f"select distinct {LANDING_KEY_COLUMN} as k from {table.relation} where {condition}",
            params,
        )
        keys.update(found.column("k").to_pylist())
    return keys


def _matches(table: pa.Table, profile_id: str, addresses: Collection[str]) -> pa.ChunkedArray:
    """True for the rows that belong to the profile (by id or by one of its addresses)."""
    wanted = pa.array(sorted(addresses), pa.string())
    mask = pa.chunked_array([pa.array([False] * table.num_rows, pa.bool_())])
    if PROFILE_COLUMN in table.column_names:
        mask = pc.or_(mask, pc.fill_null(pc.equal(table[PROFILE_COLUMN], profile_id), False))
    for name in table.column_names:
        if name not in ADDRESS_COLUMNS or not addresses:
            continue
        text = table[name].cast(pa.string())
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(text))
        digits = pc.replace_substring_regex(text, _PHONE_SEPARATORS, "")
        hit = pc.or_(pc.is_in(lowered, wanted), pc.is_in(digits, wanted))
        mask = pc.or_(mask, pc.fill_null(hit, False))
    return mask


def scrub_landing_files(
    landing: LandingZone, keys: Collection[str], profile_id: str, addresses: Collection[str]
) -> int:
    """Rewrite each file without the profile's rows; returns how many rows were removed."""
    removed = 0
    for key in sorted(keys):
        try:
            table = read_parquet(landing.read(key))
        except FileNotFoundError:
            continue  # quarantined or gone since it was loaded
        mask = _matches(table, profile_id, addresses)
        hits = pc.sum(mask).as_py() or 0
        if hits:
            landing.put(key, parquet_bytes(table.filter(pc.invert(mask))))
            removed += hits
    return removed
