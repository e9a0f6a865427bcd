"""Segments as marketers see them: definition from the dbt manifest, size, reach, exclusions.

Everything is counted in the warehouse. Exclusions use the activation plan's own guardrail
expression (`activation.plan.blocking_reason_sql`), so "how many each guardrail excludes"
is what a run on that channel would exclude before frequency caps (which depend on the
activation) and quiet hours (which defer rather than exclude).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from activation.catalog import list_activations
from activation.plan import PROFILES, blocking_reason_sql, normalized_address_sql
from activation.segments import Segment, discover_segments
from activation.warehouse_tables import SCHEMA
from api.reads.freshness import WarehouseRead
from connectors.destinations.message import Channel
from connectors.warehouse.base import Warehouse, WarehouseSession

if TYPE_CHECKING:
    from api.state import AppState

SAMPLE_MEMBERS = 10
HISTORY_DAYS = 90
RUNS_TABLE = f"{SCHEMA}.activation_runs"
KNOWN_CHANNELS = frozenset(channel.value for channel in Channel)


class UnknownSegmentError(LookupError):
    """No segment has this name; the message lists the known ones."""


class SizePoint(BaseModel):
    day: datetime
    members: int


class SegmentSummary(BaseModel):
    name: str
    model: str
    label: str
    description: str
    owner: str | None
    channels: list[str]
    members: int | None = Field(description="Null until the segment model has been built.")


class SegmentList(WarehouseRead):
    data: list[SegmentSummary]
    count: int


class ChannelReach(BaseModel):
    channel: str
    reachable: int
    excluded: dict[str, int] = Field(
        description="Members a run on this channel would exclude, by the plan's reasons."
    )


class SegmentDetail(WarehouseRead):
    segment: SegmentSummary
    sql: str | None = Field(description="The model's SQL as written in the dbt project.")
    path: str | None = None
    columns: list[str]
    reach: list[ChannelReach]
    sample: list[dict[str, Any]]
    size_history: list[SizePoint] = Field(
        description="Members at each activation run's plan, per day (the largest that day)."
    )
    note: str | None = None


def _size(session: WarehouseSession, segment: Segment) -> int | None:
    if not session.table_exists(*segment.relation.split(".", 1)):
        return None
    return int(session.scalar(f"select count(*) from {segment.relation}"))


def _summary(segment: Segment, members: int | None) -> SegmentSummary:
    return SegmentSummary(
        name=segment.name,
        model=segment.model,
        label=segment.label,
        description=segment.description,
        owner=segment.owner,
        channels=list(segment.channels),
        members=members,
    )


def segment_sizes(session: WarehouseSession, segments: list[Segment]) -> list[SegmentSummary]:
    return [_summary(segment, _size(session, segment)) for segment in segments]


def size_history(
    session: WarehouseSession, activations_by_segment: dict[str, list[str]], now: datetime
) -> dict[str, list[SizePoint]]:
    """Per segment, its size at its activations' plans (dbt keeps no size history itself).

    The window is the `HISTORY_DAYS` days before `now`, the read's own clock.

    The warehouse finds each activation's largest plan per day; the few rows that come back
    are folded into their segments here. (Pairing activations with segments in SQL by
    unnesting two lists side by side is DuckDB's zip, but ClickHouse's arrayJoin of both
    makes every pair, which gave each segment every other segment's runs.)
    """
    history: dict[str, list[SizePoint]] = {name: [] for name in activations_by_segment}
    owner = {a: s for s, names in activations_by_segment.items() for a in names}
    if not owner or not session.table_exists(*RUNS_TABLE.split(".")):
        return history
    rows = session.query_arrow(
        f"""
        select activation, date_trunc('day', planned_at) as day, max(members) as largest
        from {RUNS_TABLE}
        where activation in (select unnest($activations))
            and members is not null and planned_at >= $now - interval '{HISTORY_DAYS} days'
        group by activation, day
        """,
        {
            "activations": sorted(owner),
            "now": now.astimezone(UTC).replace(tzinfo=None),  # the warehouse keeps naive UTC
        },
    ).to_pylist()
    largest: dict[tuple[str, datetime], int] = {}
    for row in rows:
        key = (owner[row["activation"]], row["day"])
        largest[key] = max(largest.get(key, 0), int(row["largest"]))
    for (segment, day), members in sorted(largest.items()):
        history[segment].append(SizePoint(day=day, members=members))
    return history


def members_with_reasons_sql(session: WarehouseSession, relation: str, channel: Channel) -> str:
    """`from` clause: a segment's members (`s`) with their profiles (`p`), whose `reason`
    column (see `member_reason_sql`) says why the plan would exclude one (null: reachable).

    Immediate suppressions are those last mirrored into the warehouse (by the latest plan);
    the query takes `$channel`.
    """
    immediate = session.table_exists(SCHEMA, "immediate_suppressions")
    suppressed_join = (
        f"left join {SCHEMA}.immediate_suppressions as sn on sn.channel = $channel "
        f"and sn.address_hash = sha256({normalized_address_sql(channel)})"
        if immediate
        else ""
    )
    return (
        f"from {relation} as s left join {PROFILES} as p on p.profile_id = s.profile_id "
        f"{suppressed_join}"
    )


def member_reason_sql(session: WarehouseSession, channel: Channel) -> str:
    """The plan's guardrails over `members_with_reasons_sql`: why a member would be excluded."""
    immediate = session.table_exists(SCHEMA, "immediate_suppressions")
    return blocking_reason_sql(
        channel, immediately_suppressed="sn.address_hash is not null" if immediate else "false"
    )


def _reach(session: WarehouseSession, segment: Segment, channel: Channel) -> ChannelReach:
    members = members_with_reasons_sql(session, segment.relation, channel)
    reason = member_reason_sql(session, channel)
    rows = session.query_arrow(
        f"""
        with reasons as (
            select {reason} as reason, {normalized_address_sql(channel)} as address
            {members}
        ),
        ranked as (
            select case when reason is null and row_number() over (
                       partition by reason is null, address order by address) > 1
                   then 'duplicate_address' else reason end as reason
            from reasons
        )
        select reason, count(*) as n from ranked group by reason
        """,
        {"channel": channel.value},
    ).to_pylist()
    excluded = {row["reason"]: int(row["n"]) for row in rows if row["reason"] is not None}
    reachable = sum(int(row["n"]) for row in rows if row["reason"] is None)
    return ChannelReach(channel=channel.value, reachable=reachable, excluded=excluded)


def _model_node(manifest: dict[str, Any], segment: Segment) -> dict[str, Any]:
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "model" and node.get("name") == segment.model:
            return dict(node)
    return {}


def activations_by_segment(state: AppState, manifest: dict[str, Any]) -> dict[str, list[str]]:
    with state.sessions() as session:
        activations = list_activations(manifest, session)
    owners: dict[str, list[str]] = {}
    for activation in activations:
        owners.setdefault(activation.segment, []).append(activation.name)
    return owners


def _list(warehouse: Warehouse, now: datetime, segments: list[Segment]) -> SegmentList:
    with warehouse.session() as session:
        data = segment_sizes(session, segments)
    return SegmentList(as_of=now, data=data, count=len(data))


def read_segments(state: AppState) -> SegmentList:
    """Every segment in the dbt project with its size (null before its first build)."""
    segments = discover_segments(state.manifest())
    return state.reads.read("segments", lambda warehouse, now: _list(warehouse, now, segments))


def find_segment(manifest: dict[str, Any], name: str) -> Segment:
    segments = {s.name: s for s in discover_segments(manifest)}
    if name not in segments:
        known = ", ".join(sorted(segments)) or "none"
        raise UnknownSegmentError(f"no segment named {name!r} (known: {known})")
    return segments[name]


def _detail(state: AppState, warehouse: Warehouse, now: datetime, name: str) -> SegmentDetail:
    manifest = state.manifest()
    segment = find_segment(manifest, name)
    node = _model_node(manifest, segment)
    activations = activations_by_segment(state, manifest).get(segment.name, [])
    with warehouse.session() as session:
        members = _size(session, segment)
        built = members is not None and session.table_exists("analytics", "profiles")
        reach = (
            [_reach(session, segment, Channel(c)) for c in segment.channels if c in KNOWN_CHANNELS]
            if built
            else []
        )
        sample = (
            session.query_arrow(
                f"select * from {segment.relation} order by profile_id limit $n",
                {"n": SAMPLE_MEMBERS},
            ).to_pylist()
            if members is not None
            else []
        )
        history = size_history(session, {segment.name: activations}, now)[segment.name]
    return SegmentDetail(
        as_of=now,
        segment=_summary(segment, members),
        sql=node.get("raw_code"),
        path=node.get("original_file_path"),
        columns=list(segment.columns),
        reach=reach,
        sample=sample,
        size_history=history,
        note=None if members is not None else f"{segment.relation} has not been built yet",
    )


def read_segment(state: AppState, name: str) -> SegmentDetail:
    """One segment: its dbt definition, size, reach and exclusions per channel, a sample."""
    find_segment(state.manifest(), name)  # an unknown name is a 404, never cached
    return state.reads.read(
        f"segment:{name}", lambda warehouse, now: _detail(state, warehouse, now, name)
    )
