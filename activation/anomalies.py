"""Anomaly holds: a run over data that just jumped or spiked waits for an admin's approval.

dbt flags unusual points (`analytics.segment_size_anomalies`: a segment's size jumped since
its previous build; `analytics.deliverability_anomalies`: the latest day's bounce or
complaint rate spiked), each judged against its own recent history (the method is in the
models' yml). A run planned while its segment's latest size, or for email the latest day of
deliverability, is flagged is held `awaiting_approval` with the reason, like a run over its
size limit, and `approve` releases it. Until the models have been built nothing is held.

Each flagged point has a key naming what was flagged (the segment and the build it was
measured at; the metric and its day). The engine records the keys that held a run, and an
approval covers them for the activation's later runs too (the cron an hour later, before the
next dbt build, sees the very same points): only a point not yet approved holds a run.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from activation.definition import ActivationDefinition
from connectors.destinations.message import Channel
from connectors.warehouse.base import Warehouse, WarehouseSession

SEGMENT_ANOMALIES = ("analytics", "segment_size_anomalies")
DELIVERABILITY_ANOMALIES = ("analytics", "deliverability_anomalies")
ANOMALY_PREFIX = "anomaly: "


@dataclass(frozen=True)
class Anomaly:
    """One flagged data point: `key` identifies it across runs, `description` explains it."""

    key: str
    description: str


def segment_jump_anomaly(session: WarehouseSession, segment: str) -> Anomaly | None:
    """The segment's latest recorded size when it jumped, or None when it did not (or unknown)."""
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
    return Anomaly(
        key=f"segment_size:{segment}:{measured_at:%Y-%m-%dT%H:%M:%S.%f}",
        description=(
            f"segment {segment} jumped from {row['previous_members']:,} to {row['members']:,} "
            f"members ({row['size_change']:+,}, robust z {row['robust_z']:.1f}) at the build "
            f"of {measured_at:%Y-%m-%d %H:%M} UTC"
        ),
    )


def segment_jump(session: WarehouseSession, segment: str) -> str | None:
    """How the segment's latest recorded size jumped, or None when it did not (or unknown)."""
    anomaly = segment_jump_anomaly(session, segment)
    return anomaly.description if anomaly else None


def deliverability_anomalies(session: WarehouseSession) -> list[Anomaly]:
    """Each rate that spiked on the latest day of email feedback."""
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
            Anomaly(
                key=f"deliverability:{row['metric']}:{day:%Y-%m-%d}",
                description=(
                    f"the {row['metric'].replace('_', ' ')} spiked to {row['rate']:.2%} on "
                    f"{day:%Y-%m-%d} (recent median {row['baseline_median_rate']:.2%}, "
                    f"robust z {row['robust_z']:.1f})"
                ),
            )
        )
    return spikes


def deliverability_spikes(session: WarehouseSession) -> list[str]:
    """Each rate that spiked on the latest day of email feedback, described."""
    return [anomaly.description for anomaly in deliverability_anomalies(session)]


def flagged_anomalies(
    warehouse: Warehouse, definition: ActivationDefinition, *, approved: Collection[str] = ()
) -> list[Anomaly]:
    """The flagged points the run is over, less those whose keys are in `approved`."""
    with warehouse.session() as session:
        found = [segment_jump_anomaly(session, definition.segment)]
        if definition.channel is Channel.EMAIL:
            found.extend(deliverability_anomalies(session))
    return [a for a in found if a is not None and a.key not in approved]


def anomaly_hold_reason(anomalies: list[Anomaly]) -> str | None:
    """Why the run must wait for approval because these points look anomalous, or None."""
    if not anomalies:
        return None
    return ANOMALY_PREFIX + "; ".join(a.description for a in anomalies)
