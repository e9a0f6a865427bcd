"""What every landing zone offers, wherever its files live.

Files are written once and never modified. A file's key is `<dataset>/dt=<day>/<name>`,
where the name starts with the UTC arrival time, so listing in key order is arrival order.
A file that cannot be loaded is moved under `_quarantine/` with a sidecar that says why;
it never blocks the files after it.
"""

from __future__ import annotations

import builtins
import io
import json
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.raw_schemas import dataset as lookup_dataset

QUARANTINE_PREFIX = "_quarantine/"
REASON_SUFFIX = ".reason.json"


@dataclass(frozen=True)
class LandingFile:
    """One immutable batch file in the landing zone."""

    key: str
    size: int

    @property
    def dataset(self) -> str:
        return self.key.split("/", 1)[0]


@dataclass(frozen=True)
class QuarantinedFile:
    """A file set aside by the loader, with the reason it gave."""

    key: str
    reason: str
    quarantined_at: str


def new_batch_key(dataset: str, suffix: str = ".parquet", now: datetime | None = None) -> str:
    """A fresh, arrival-ordered key for a batch of `dataset`."""
    lookup_dataset(dataset)  # refuse unknown datasets before anything is written
    moment = now or datetime.now(UTC)
    stamp = moment.strftime("%Y%m%dT%H%M%S%fZ")
    return f"{dataset}/dt={moment:%Y-%m-%d}/{stamp}-{uuid.uuid4().hex[:12]}{suffix}"


def parquet_bytes(table: pa.Table) -> bytes:
    """Serialize a batch the way the loader expects it (zstd Parquet)."""
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def reason_document(key: str, reason: str) -> bytes:
    return json.dumps(
        {"key": key, "reason": reason, "quarantined_at": datetime.now(UTC).isoformat()},
        indent=2,
    ).encode()


class LandingZone(ABC):
    """Durable, immutable batch storage shared by every source and the loader."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> LandingFile:
        """Store `data` under `key` durably and atomically; readers never see half a file."""

    @abstractmethod
    def read(self, key: str) -> bytes:
        """The bytes of one file."""

    @abstractmethod
    def list(self, dataset: str | None = None) -> list[LandingFile]:
        """Files waiting in the zone (not quarantined), in arrival order."""

    @abstractmethod
    def quarantine(self, key: str, reason: str) -> None:
        """Move a file out of the way, keeping it and a note of why."""

    @abstractmethod
    def quarantined(self) -> builtins.list[QuarantinedFile]:
        """Files set aside so far, with their reasons."""

    @abstractmethod
    def describe(self) -> str:
        """Where the files live, for humans (never includes credentials)."""

    def write_table(self, dataset: str, table: pa.Table) -> LandingFile:
        """Write one batch of `dataset` as Parquet under a fresh key."""
        return self.put(new_batch_key(dataset), parquet_bytes(table))
