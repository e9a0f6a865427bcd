"""The numbers a summary or a dashboard opens with: profiles, reachability, segment sizes.

All counting happens in the warehouse; only the small aggregates come back.
"""

from __future__ import annotations

from dataclasses import dataclass

from activation.segments import Segment
from connectors.warehouse.base import Warehouse, WarehouseSession


@dataclass(frozen=True)
class SegmentSize:
    segment: Segment
    members: int | None  # None: the model has not been built yet


@dataclass(frozen=True)
class Overview:
    profiles: int
    email_reachable: int
    sms_reachable: int
    segments: list[SegmentSize]


def _count(session: WarehouseSession, relation: str) -> int | None:
    schema, table = relation.split(".", 1)
    if not session.table_exists(schema, table):
        return None
    return int(session.scalar(f"select count(*) from {relation}"))


def warehouse_overview(warehouse: Warehouse, segments: list[Segment]) -> Overview:
    """Profiles, reachable profiles per channel and every segment's size, in one session."""
    profiles = email = sms = 0
    with warehouse.session() as session:
        if session.table_exists("analytics", "profiles"):
            row = session.query_arrow(
                "select count(*) as profiles, "
                "count(*) filter (where is_email_reachable) as email, "
                "count(*) filter (where is_sms_reachable) as sms "
                "from analytics.profiles"
            ).to_pylist()[0]
            profiles, email, sms = int(row["profiles"]), int(row["email"]), int(row["sms"])
        sizes = [SegmentSize(segment, _count(session, segment.relation)) for segment in segments]
    return Overview(profiles=profiles, email_reachable=email, sms_reachable=sms, segments=sizes)
