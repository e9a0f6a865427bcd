"""The overview a marketer opens with: profiles, reach, segments and their trend, recent runs,
deliverability health. Warehouse numbers keep their last good value during a build; runs are
read live from the ops store."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from activation.overview import warehouse_overview
from activation.segments import discover_segments
from api.reads.deliverability import DeliverabilityCounts, deliverability_totals, health_of
from api.reads.freshness import WarehouseRead
from api.reads.runs import RunProgress, recent_runs
from api.reads.segments import SegmentSummary, SizePoint, activations_by_segment, size_history
from connectors.warehouse.base import Warehouse

if TYPE_CHECKING:
    from api.state import AppState

RECENT_RUNS = 10
HEALTH_DAYS = 7


class SegmentTrend(SegmentSummary):
    size_history: list[SizePoint]


class Overview(WarehouseRead):
    profiles: int
    reachable: dict[str, int]
    segments: list[SegmentTrend]
    deliverability: DeliverabilityCounts | None
    deliverability_health: Literal["good", "warning", "bad", "no_data"]
    recent_runs: list[RunProgress] = []


def _read(state: AppState, warehouse: Warehouse, now: datetime) -> Overview:
    manifest = state.manifest()
    segments = discover_segments(manifest)
    owners = activations_by_segment(state, manifest)
    counts = warehouse_overview(warehouse, segments)
    with warehouse.session() as session:
        history = size_history(session, {s.name: owners.get(s.name, []) for s in segments}, now)
        totals = deliverability_totals(session, HEALTH_DAYS)
    trends = [
        SegmentTrend(
            name=size.segment.name,
            model=size.segment.model,
            label=size.segment.label,
            description=size.segment.description,
            owner=size.segment.owner,
            channels=list(size.segment.channels),
            members=size.members,
            size_history=history[size.segment.name],
        )
        for size in counts.segments
    ]
    return Overview(
        as_of=now,
        profiles=counts.profiles,
        reachable={"email": counts.email_reachable, "sms": counts.sms_reachable},
        segments=trends,
        deliverability=totals,
        deliverability_health=health_of(totals),
    )


def read_overview(state: AppState) -> Overview:
    result = state.reads.read("overview", lambda warehouse, now: _read(state, warehouse, now))
    with state.sessions() as session:
        runs = recent_runs(session, state.ledger_counts, limit=RECENT_RUNS).data
    return result.model_copy(update={"recent_runs": runs})
