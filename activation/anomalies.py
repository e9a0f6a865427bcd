"""Anomaly holds: a run over data that just jumped or spiked waits for an admin's approval.

dbt flags unusual points (`analytics.segment_size_anomalies`: a segment's size jumped since
its previous build; `analytics.deliverability_anomalies`: the latest day's bounce or
complaint rate spiked), each judged against its own recent history (the method is in the
models' yml). A run planned while its segment's latest size, or for email the latest day of
deliverability, is flagged is held `awaiting_approval` with the reason, like a run over its
size limit, and `approve` releases it. Until the models have been built nothing is held.
"""

from __future__ import annotations

from datetime import date, datetime

from activation.definition import ActivationDefinition
from connectors.destinations.message import Channel
from connectors.warehouse.base import Warehouse, WarehouseSession

SEGMENT_ANOMALIES = ("analytics", "segment_size_anomalies")
DELIVERABILITY_ANOMALIES = ("analytics", "deliverability_anomalies")
ANOMALY_PREFIX = "anomaly: "


def segment_jump(session: WarehouseSession, segment: str) -> str | None:
    """How the segment's latest recorded size jumped, or None when it did not (or unknown)."""
    if not session.table_exists(*SEGMENT_ANOMALIES):
        return None
    rows = session.query_arrow(
        "select members, previous_members, size_change, robust_z, measured_at "
        f"from {'.'.join(SEGMENT_ANOMALIES)} "
        "where segment = ? and is_latest and is_anomaly",
        [segment],
    ).to_pylist()
    if not rows:
        return None
    row = rows[0]
    measured_at: datetime = row["measured_at"]
    return (
        f"segment {segment} jumped from {row['previous_members']:,} to {row['members']:,} "
        f"members ({row['size_change']:+,}, robust z {row['robust_z']:.1f}) at the build of "
        f"{measured_at:%Y-%m-%d %H:%M} UTC"
    )


def deliverability_spikes(session: WarehouseSession) -> list[str]:
    """Each rate that spiked on the latest day of email feedback, described."""
    if not session.table_exists(*DELIVERABILITY_ANOMALIES):
        return []
    rows = session.query_arrow(
        "select metric, event_date, rate, baseline_median_rate, robust_z "
        f"from {'.'.join(DELIVERABILITY_ANOMALIES)} "
        "where is_latest and is_anomaly order by metric"
    ).to_pylist()
    spikes = []
    for row in rows:
        day: date = row["event_date"]
        spikes.append(
            f"the {row['metric'].replace('_', ' ')} spiked to {row['rate']:.2%} on {day:%Y-%m-%d} "
            f"(recent median {row['baseline_median_rate']:.2%}, robust z {row['robust_z']:.1f})"
        )
    return spikes


def anomaly_hold_reason(warehouse: Warehouse, definition: ActivationDefinition) -> str | None:
    """Why the run must wait for approval because its data looks anomalous, or None."""
    with warehouse.session() as session:
        found = [segment_jump(session, definition.segment)]
        if definition.channel is Channel.EMAIL:
            found.extend(deliverability_spikes(session))
    reasons = [reason for reason in found if reason]
    return ANOMALY_PREFIX + "; ".join(reasons) if reasons else None
