"""Launch a load whenever new files arrive in the landing zone.

The cursor is a high-water mark over file names (which start with their arrival time) plus
the keys launched within a look-back window: a writer that took a few seconds to rename
its file into place is still picked up, and nothing is launched twice. `run_key` is derived
from the files themselves, so even two ticks evaluated on the same cursor launch one run.
Files the loader's manifest already records (loaded by `tidemark build`, or before this
Dagster home existed) are passed over rather than launched as a run that would do nothing;
while a dbt build holds the warehouse, the check is skipped and the loader's manifest, the
final guarantee of exactly-once, sorts it out.
"""

import hashlib
import json
from dataclasses import dataclass, field

import dagster as dg

from connectors.landing import LandingFile
from connectors.loader import already_loaded
from connectors.raw_schemas import DATASETS
from connectors.warehouse.duckdb import WarehouseBusyError
from connectors.warehouse.factory import open_warehouse
from dagster_project.defs.ingest.assets import load_landing_job
from dagster_project.resources import TidemarkResource

#: How far behind the high-water mark a late file may land and still be noticed.
LOOKBACK_SECONDS = 600
MAX_FILES_PER_RUN = 200
#: How long a tick waits for the warehouse before launching without the manifest check.
MANIFEST_CHECK_TIMEOUT_S = 2.0


def _file_name(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def _stamp_seconds(name: str) -> float:
    """Seconds since the epoch encoded in a landing file name (`YYYYmmddTHHMMSSffffffZ-…`)."""
    from datetime import UTC, datetime

    try:
        moment = datetime.strptime(name.split("-", 1)[0], "%Y%m%dT%H%M%S%fZ")
    except ValueError:
        return 0.0
    return moment.replace(tzinfo=UTC).timestamp()


@dataclass
class LandingCursor:
    """What the sensor has already launched."""

    high_water: str = ""
    recent: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, raw: str | None) -> "LandingCursor":
        if not raw:
            return cls()
        doc = json.loads(raw)
        return cls(high_water=doc.get("high_water", ""), recent=list(doc.get("recent", [])))

    def dump(self) -> str:
        return json.dumps({"high_water": self.high_water, "recent": self.recent})

    def new_files(self, files: list[LandingFile]) -> list[LandingFile]:
        floor = _stamp_seconds(self.high_water) - LOOKBACK_SECONDS if self.high_water else None
        seen = set(self.recent)
        fresh = []
        for f in files:
            name = _file_name(f.key)
            if f.key in seen:
                continue
            if floor is not None and _stamp_seconds(name) < floor:
                continue
            fresh.append(f)
        return fresh

    def advance(self, launched: list[LandingFile]) -> "LandingCursor":
        names = [_file_name(f.key) for f in launched]
        high_water = max([self.high_water, *names])
        floor = _stamp_seconds(high_water) - LOOKBACK_SECONDS
        recent = [
            k
            for k in [*self.recent, *(f.key for f in launched)]
            if _stamp_seconds(_file_name(k)) >= floor
        ]
        return LandingCursor(high_water=high_water, recent=sorted(set(recent)))


def _loaded_already(tidemark: TidemarkResource, files: list[LandingFile]) -> set[str]:
    """Keys among `files` the manifest already has; empty when the warehouse is busy."""
    settings = tidemark.settings()
    if not files or (settings.warehouse == "duckdb" and not settings.duckdb_file.exists()):
        return set()
    settings = settings.model_copy(update={"duckdb_lock_timeout_s": MANIFEST_CHECK_TIMEOUT_S})
    try:
        return already_loaded(open_warehouse(settings), [f.key for f in files])
    except WarehouseBusyError:
        return set()


def run_key_for(files: list[LandingFile]) -> str:
    digest = hashlib.sha256("\n".join(sorted(f.key for f in files)).encode()).hexdigest()
    return f"landing-{digest[:32]}"


@dg.sensor(
    job=load_landing_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Loads new landing files into raw tables, exactly once.",
)
def landing_files_sensor(
    context: dg.SensorEvaluationContext, tidemark: TidemarkResource
) -> dg.SensorResult | dg.SkipReason:
    landing = tidemark.landing()
    cursor = LandingCursor.parse(context.cursor)
    files = [f for f in landing.list() if f.dataset in DATASETS]
    fresh = cursor.new_files(files)
    loaded = _loaded_already(tidemark, fresh)
    if loaded:
        cursor = cursor.advance([f for f in fresh if f.key in loaded])
        fresh = [f for f in fresh if f.key not in loaded]
    fresh = fresh[:MAX_FILES_PER_RUN]
    if not fresh:
        return dg.SensorResult(
            skip_reason=f"no new files in {landing.describe()} "
            f"({len(files)} files seen, all launched or loaded)",
            cursor=cursor.dump(),
        )
    request = dg.RunRequest(
        run_key=run_key_for(fresh),
        run_config=dg.RunConfig(
            ops={"raw_landing_tables": {"config": {"keys": [f.key for f in fresh]}}}
        ),
        tags={"tidemark/landing_files": str(len(fresh))},
    )
    return dg.SensorResult(run_requests=[request], cursor=cursor.advance(fresh).dump())
