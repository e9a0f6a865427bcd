"""Copy landing files into `raw.<dataset>`, each exactly once, never blocking on a bad one.

Exactly-once rests on the manifest table `raw._loaded_files` (primary key: the file's key),
written in the same warehouse transaction as the file's rows. A file already in the
manifest is skipped; two loaders racing on one file both try to insert its manifest row and
the loser's transaction rolls back whole. A file that cannot be read, does not match its
schema or fails its expectations is moved to quarantine with the reason, and loading goes
on with the next file.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import duckdb
import pyarrow as pa

from connectors.landing.base import LandingFile, LandingZone
from connectors.loader.conform import BatchRejectedError, conform_batch, read_parquet
from connectors.loader.expectations import validate_batch
from connectors.raw_schemas import DATASETS
from connectors.warehouse.base import Warehouse, WarehouseSession
from connectors.warehouse.bootstrap import ensure_tables
from connectors.warehouse.raw_tables import LOADED_FILES_TABLE, RAW_SCHEMA, bootstrap_ddl

log = logging.getLogger(__name__)

Status = Literal["loaded", "already_loaded", "quarantined"]


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one landing file."""

    key: str
    dataset: str
    status: Status
    rows: int = 0
    reason: str | None = None


@dataclass
class LoadReport:
    """Everything one load call did, for progress output, run metadata and asset checks."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def with_status(self, status: Status) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == status]

    def rows_by_dataset(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for outcome in self.with_status("loaded"):
            counts[outcome.dataset] += outcome.rows
        return dict(counts)

    def for_dataset(self, dataset: str) -> LoadReport:
        return LoadReport([o for o in self.outcomes if o.dataset == dataset], self.seconds)


def ensure_raw_tables(warehouse: Warehouse) -> None:
    """Create the `raw` schema, its tables and the manifest when they are missing."""
    tables = [*DATASETS, LOADED_FILES_TABLE.split(".", 1)[1]]
    with warehouse.session() as session:
        ensure_tables(session, RAW_SCHEMA, tables, bootstrap_ddl())


def _loaded_keys(session: WarehouseSession, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    found = session.query_arrow(
        f"select landing_key from {LOADED_FILES_TABLE} where landing_key in "
        "(select unnest(?::varchar[]))",
        [keys],
    )
    return set(found.column("landing_key").to_pylist())


def already_loaded(warehouse: Warehouse, keys: list[str]) -> set[str]:
    """Which of `keys` the manifest records as loaded; reads only (no tables created)."""
    schema, table = LOADED_FILES_TABLE.split(".")
    if not keys or not warehouse.table_exists(schema, table):
        return set()
    with warehouse.session() as session:
        return _loaded_keys(session, keys)


def pending_files(
    landing: LandingZone, warehouse: Warehouse, keys: Iterable[str] | None = None
) -> list[LandingFile]:
    """Landing files not yet in the manifest (optionally only among `keys`), in arrival order."""
    ensure_raw_tables(warehouse)
    files = [f for f in landing.list() if f.dataset in DATASETS]
    if keys is not None:
        wanted = set(keys)
        files = [f for f in files if f.key in wanted]
    done = already_loaded(warehouse, [f.key for f in files])
    return [f for f in files if f.key not in done]


def _prepare(landing: LandingZone, file: LandingFile, now: datetime) -> pa.Table:
    ds = DATASETS[file.dataset]
    table = conform_batch(ds, read_parquet(landing.read(file.key)))
    validation = validate_batch(ds, table, now)
    if not validation.success:
        raise BatchRejectedError(
            f"failed {len(validation.failures)} of {validation.evaluated} expectations: "
            + "; ".join(validation.failures)
        )
    return table


def _commit_file(session: WarehouseSession, file: LandingFile, table: pa.Table) -> Status:
    """Insert the rows and the manifest row in one transaction; report a lost race."""
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    # pa.repeat fills the constant columns in Arrow; a Python list of a million references
    # took over a second per file.
    rows = table.append_column(
        pa.field("_landing_key", pa.string(), nullable=False),
        pa.repeat(pa.scalar(file.key, pa.string()), table.num_rows),
    ).append_column(
        pa.field("_loaded_at", pa.timestamp("us"), nullable=False),
        pa.repeat(pa.scalar(loaded_at, pa.timestamp("us")), table.num_rows),
    )
    session.begin()
    try:
        if _loaded_keys(session, [file.key]):
            session.rollback()
            return "already_loaded"
        session.insert_arrow(f"{RAW_SCHEMA}.{file.dataset}", rows)
        session.execute(
            f"insert into {LOADED_FILES_TABLE} values (?, ?, ?, ?, ?)",
            [file.key, file.dataset, table.num_rows, file.size, loaded_at],
        )
        session.commit()
    except (duckdb.ConstraintException, duckdb.TransactionException):
        # A concurrent loader may have committed the same manifest row first (DuckDB reports
        # that at insert or only at commit); it is a lost race only if the key is now loaded.
        session.rollback()
        if _loaded_keys(session, [file.key]):
            return "already_loaded"
        raise
    except BaseException:
        session.rollback()
        raise
    return "loaded"


def load_landing_files(
    landing: LandingZone,
    warehouse: Warehouse,
    *,
    keys: Iterable[str] | None = None,
    now: datetime | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
) -> LoadReport:
    """Load every pending landing file (or only those among `keys`) into `raw`."""
    started = time.perf_counter()
    moment = (now or datetime.now(UTC)).replace(tzinfo=None)
    report = LoadReport()
    files = pending_files(landing, warehouse, keys)
    with warehouse.session() as session:
        for file in files:
            try:
                table = _prepare(landing, file, moment)
            except BatchRejectedError as rejection:
                reason = str(rejection)
                log.warning("quarantining %s: %s", file.key, reason)
                try:
                    landing.quarantine(file.key, reason)
                except FileNotFoundError:
                    log.info("%s was already moved by a concurrent loader", file.key)
                outcome = FileOutcome(file.key, file.dataset, "quarantined", reason=reason)
            else:
                status = _commit_file(session, file, table)
                rows = table.num_rows if status == "loaded" else 0
                outcome = FileOutcome(file.key, file.dataset, status, rows=rows)
            report.outcomes.append(outcome)
            if on_file is not None:
                on_file(outcome)
    report.seconds = time.perf_counter() - started
    return report
