"""What an importable CSV looks like, per kind: its columns, how each is checked, and the raw
datasets its rows become.

Column names are the landing contract's (connectors/raw_schemas.py), so a file exported from
the warehouse can be imported again. `source` may be given; it defaults to `csv_import`. A
profiles file may carry consent per channel (`email_consent`, `sms_consent`: granted or
withdrawn), which lands as consent events dated by the row's `updated_at`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import polars as pl
import pyarrow as pa

from connectors.imports.column_checks import (
    ColumnCheck,
    as_text,
    email,
    per_distinct_value,
    phone,
    timestamp,
)
from connectors.imports.value_checks import (
    check_amount,
    check_consent,
    check_count,
    check_country,
    check_time_zone,
    check_token,
)
from connectors.raw_schemas import CONSENT_EVENTS, EVENTS, PROFILES, RawDataset

DEFAULT_SOURCE = "csv_import"


class HeaderMismatchError(ValueError):
    """The file's header is not the one this kind of import expects; nothing was imported."""


@dataclass(frozen=True)
class Column:
    name: str
    check: ColumnCheck
    required: bool = False


_country = per_distinct_value(check_country, pl.String())
_time_zone = per_distinct_value(check_time_zone, pl.String())
_consent = per_distinct_value(check_consent, pl.String())
_token = per_distinct_value(check_token, pl.String())
_amount = per_distinct_value(check_amount, pl.Float64())
_count = per_distinct_value(check_count, pl.Int64())


@dataclass(frozen=True)
class ImportSpec:
    """One importable kind: its header and how checked rows become landing batches."""

    kind: str
    columns: tuple[Column, ...]
    build: Callable[[pl.DataFrame, datetime], dict[RawDataset, pa.Table]]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def expected_header(self) -> str:
        return ", ".join(f"{c.name}{' (required)' if c.required else ''}" for c in self.columns)

    def match_header(self, header: list[str]) -> list[str]:
        """The file's column names, normalised, or `HeaderMismatchError` saying what differs."""
        found = [name.strip().lower() for name in header]
        known = set(self.names)
        missing = [name for name in self.required if name not in found]
        unexpected = [name for name in found if name not in known]
        duplicated = sorted({name for name in found if found.count(name) > 1})
        problems = []
        if missing:
            problems.append(f"missing required columns {missing}")
        if unexpected:
            problems.append(f"unknown columns {unexpected}")
        if duplicated:
            problems.append(f"columns named twice {duplicated}")
        if problems:
            raise HeaderMismatchError(
                f"the {self.kind} file's header does not match: {'; '.join(problems)}. "
                f"Expected columns (any order): {self.expected_header()}. "
                f"Found: {', '.join(repr(name) for name in header)}."
            )
        return found


def _table(frame: pl.DataFrame, dataset: RawDataset) -> pa.Table:
    """The frame's columns as the dataset's batch; columns the file lacks are null."""
    complete = _with_defaults(frame, dataset.schema.names)
    return complete.select(dataset.schema.names).to_arrow().cast(dataset.schema)


def _build_profiles(checked: pl.DataFrame, now: datetime) -> dict[RawDataset, pa.Table]:
    frame = (
        _with_defaults(checked, ["created_at", "updated_at", "source"])
        .with_columns(updated_at=pl.col("updated_at").fill_null(now))
        .with_columns(
            created_at=pl.col("created_at").fill_null(pl.col("updated_at")),
            source=pl.col("source").fill_null(DEFAULT_SOURCE),
        )
    )
    tables = {PROFILES: _table(frame, PROFILES)}
    consent = _consent_events(frame)
    if consent.height:
        tables[CONSENT_EVENTS] = _table(consent, CONSENT_EVENTS)
    return tables


def _with_defaults(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """`frame` with the named columns added (null) where the file has none."""
    missing = [pl.lit(None).alias(name) for name in names if name not in frame.columns]
    return frame.with_columns(missing)


def _iso(moment: pl.Expr) -> pl.Expr:
    """`datetime.isoformat()` of a naive timestamp, as the consent ids have always hashed it."""
    whole = moment.dt.strftime("%Y-%m-%dT%H:%M:%S")
    return (
        pl.when(moment.dt.microsecond() == 0)
        .then(whole)
        .otherwise(whole + "." + moment.dt.microsecond().cast(pl.String).str.zfill(6))
    )


def _consent_events(frame: pl.DataFrame) -> pl.DataFrame:
    per_channel = [
        frame.filter(pl.col(f"{channel}_consent").is_not_null()).select(
            "profile_id",
            channel=pl.lit(channel),
            status=pl.col(f"{channel}_consent"),
            occurred_at=pl.col("updated_at"),
            source="source",
        )
        for channel in ("email", "sms")
        if f"{channel}_consent" in frame.columns
    ]
    if not per_channel:
        return pl.DataFrame()
    events = pl.concat(per_channel)
    keys = events.select(
        pl.concat_str("profile_id", "channel", "status", _iso(pl.col("occurred_at")), separator="|")
    )[:, 0]
    # Deterministic: importing the same file twice states the same change twice.
    ids = [f"csv-{hashlib.sha256(key.encode()).hexdigest()[:32]}" for key in keys.to_list()]
    return events.with_columns(consent_event_id=pl.Series(ids, dtype=pl.String))


def _build_events(checked: pl.DataFrame, now: datetime) -> dict[RawDataset, pa.Table]:
    frame = _with_defaults(checked, ["source"]).with_columns(
        source=pl.col("source").fill_null(DEFAULT_SOURCE)
    )
    return {EVENTS: _table(frame, EVENTS)}


PROFILES_IMPORT = ImportSpec(
    kind="profiles",
    columns=(
        Column("profile_id", required=True, check=as_text),
        Column("email", check=email),
        Column("phone", check=phone),
        Column("first_name", check=as_text),
        Column("last_name", check=as_text),
        Column("country", check=_country),
        Column("time_zone", check=_time_zone),
        Column("created_at", check=timestamp),
        Column("updated_at", check=timestamp),
        Column("email_consent", check=_consent),
        Column("sms_consent", check=_consent),
        Column("source", check=as_text),
    ),
    build=_build_profiles,
)

EVENTS_IMPORT = ImportSpec(
    kind="events",
    columns=(
        Column("event_id", required=True, check=as_text),
        Column("profile_id", required=True, check=as_text),
        Column("event_type", required=True, check=_token),
        Column("occurred_at", required=True, check=timestamp),
        Column("product_id", check=as_text),
        Column("order_id", check=as_text),
        Column("revenue", check=_amount),
        Column("quantity", check=_count),
        Column("source", check=as_text),
    ),
    build=_build_events,
)

IMPORT_SPECS: dict[str, ImportSpec] = {s.kind: s for s in (PROFILES_IMPORT, EVENTS_IMPORT)}


def import_spec(kind: str) -> ImportSpec:
    try:
        return IMPORT_SPECS[kind]
    except KeyError:
        raise ValueError(
            f"cannot import {kind!r}; importable kinds: {', '.join(IMPORT_SPECS)}"
        ) from None
