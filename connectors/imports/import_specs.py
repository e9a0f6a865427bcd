"""What an importable CSV looks like, per kind: its columns, how each is checked, and the raw
datasets its rows become.

Column names are the landing contract's (connectors/raw_schemas.py), so a file exported from
the warehouse can be imported again. `source` may be given; it defaults to `csv_import`. A
profiles file may carry consent per channel (`email_consent`, `sms_consent`: granted or
withdrawn), which lands as consent events dated by the row's `updated_at`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from connectors.imports.value_checks import (
    check_amount,
    check_consent,
    check_count,
    check_country,
    check_email,
    check_phone,
    check_time_zone,
    check_timestamp,
    check_token,
)
from connectors.raw_schemas import CONSENT_EVENTS, EVENTS, PROFILES, RawDataset

DEFAULT_SOURCE = "csv_import"

#: A column's check: the raw (stripped, non-blank) value and the whole raw row → stored value.
Check = Callable[[str, Mapping[str, str], datetime], Any]


class HeaderMismatchError(ValueError):
    """The file's header is not the one this kind of import expects; nothing was imported."""


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    check: Check | None = None
    reads_row: bool = False
    """The check looks at other fields of the row (a phone number at its country)."""


def _text(value: str, row: Mapping[str, str], now: datetime) -> str:
    return value


def _email(value: str, row: Mapping[str, str], now: datetime) -> str:
    return check_email(value)


def _phone(value: str, row: Mapping[str, str], now: datetime) -> str:
    return check_phone(value, row.get("country", "").strip() or None)


def _country(value: str, row: Mapping[str, str], now: datetime) -> str:
    return check_country(value)


def _time_zone(value: str, row: Mapping[str, str], now: datetime) -> str:
    return check_time_zone(value)


def _timestamp(value: str, row: Mapping[str, str], now: datetime) -> datetime:
    return check_timestamp(value, now)


def _consent(value: str, row: Mapping[str, str], now: datetime) -> str:
    return check_consent(value)


def _token(value: str, row: Mapping[str, str], now: datetime) -> str:
    return check_token(value)


def _amount(value: str, row: Mapping[str, str], now: datetime) -> float:
    return check_amount(value)


def _count(value: str, row: Mapping[str, str], now: datetime) -> int:
    return check_count(value)


Rows = dict[str, list[Any]]
"""Checked values of a chunk's good rows, column by column."""


@dataclass(frozen=True)
class ImportSpec:
    """One importable kind: its header and how checked rows become landing batches."""

    kind: str
    columns: tuple[Column, ...]
    build: Callable[[Rows, int, datetime], dict[RawDataset, pa.Table]]

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


def _column(rows: Rows, name: str, count: int) -> list[Any]:
    return rows.get(name) or [None] * count


def _build_profiles(rows: Rows, count: int, now: datetime) -> dict[RawDataset, pa.Table]:
    updated = [u or now for u in _column(rows, "updated_at", count)]
    created = [c or u for c, u in zip(_column(rows, "created_at", count), updated, strict=True)]
    sources = [s or DEFAULT_SOURCE for s in _column(rows, "source", count)]
    ids = rows["profile_id"]
    profiles = {
        name: _column(rows, name, count)
        for name in ("email", "phone", "first_name", "last_name", "country", "time_zone")
    }
    profiles |= {"profile_id": ids, "created_at": created, "updated_at": updated, "source": sources}
    tables = {PROFILES: pa.Table.from_pydict(profiles, schema=PROFILES.schema)}
    consent = _consent_events(rows, ids, updated, sources, count)
    if consent["profile_id"]:
        tables[CONSENT_EVENTS] = pa.Table.from_pydict(consent, schema=CONSENT_EVENTS.schema)
    return tables


def _consent_events(
    rows: Rows, ids: list[str], updated: list[datetime], sources: list[str], count: int
) -> dict[str, list[Any]]:
    events: dict[str, list[Any]] = {name: [] for name in CONSENT_EVENTS.schema.names}
    for channel in ("email", "sms"):
        statuses = _column(rows, f"{channel}_consent", count)
        for profile_id, status, at, source in zip(ids, statuses, updated, sources, strict=True):
            if status is None:
                continue
            # Deterministic: importing the same file twice states the same change twice.
            digest = hashlib.sha256(f"{profile_id}|{channel}|{status}|{at.isoformat()}".encode())
            events["consent_event_id"].append(f"csv-{digest.hexdigest()[:32]}")
            events["profile_id"].append(profile_id)
            events["channel"].append(channel)
            events["status"].append(status)
            events["occurred_at"].append(at)
            events["source"].append(source)
    return events


def _build_events(rows: Rows, count: int, now: datetime) -> dict[RawDataset, pa.Table]:
    data = {name: _column(rows, name, count) for name in EVENTS.schema.names}
    data["source"] = [s or DEFAULT_SOURCE for s in data["source"]]
    return {EVENTS: pa.Table.from_pydict(data, schema=EVENTS.schema)}


PROFILES_IMPORT = ImportSpec(
    kind="profiles",
    columns=(
        Column("profile_id", required=True, check=_text),
        Column("email", check=_email),
        Column("phone", check=_phone, reads_row=True),
        Column("first_name", check=_text),
        Column("last_name", check=_text),
        Column("country", check=_country),
        Column("time_zone", check=_time_zone),
        Column("created_at", check=_timestamp),
        Column("updated_at", check=_timestamp),
        Column("email_consent", check=_consent),
        Column("sms_consent", check=_consent),
        Column("source", check=_text),
    ),
    build=_build_profiles,
)

EVENTS_IMPORT = ImportSpec(
    kind="events",
    columns=(
        Column("event_id", required=True, check=_text),
        Column("profile_id", required=True, check=_text),
        Column("event_type", required=True, check=_token),
        Column("occurred_at", required=True, check=_timestamp),
        Column("product_id", check=_text),
        Column("order_id", check=_text),
        Column("revenue", check=_amount),
        Column("quantity", check=_count),
        Column("source", check=_text),
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
