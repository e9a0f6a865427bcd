"""Anomaly flags as blocking asset checks: a segment's size jump, a deliverability spike.

Each segment model gets `size_has_no_jump` (its latest recorded size in
`analytics.segment_size_anomalies`), and `deliverability_anomalies` gets
`no_bounce_or_complaint_spike` (its latest day). They are blocking: in a run that also
materializes activations downstream, a failed check stops them there; and whichever way a
run starts, the engine holds it for approval over the same flags (activation/anomalies.py).
"""

import dagster as dg

from activation.anomalies import DELIVERABILITY_ANOMALIES, deliverability_spikes, segment_jump
from activation.segments import Segment, discover_segments
from connectors.dbt_project import load_manifest
from connectors.settings import get_settings
from dagster_project.resources import TidemarkResource

SEGMENT_CHECK = "size_has_no_jump"
DELIVERABILITY_CHECK = "no_bounce_or_complaint_spike"


def segment_size_check(segment: Segment) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["analytics", segment.model]),
        name=SEGMENT_CHECK,
        blocking=True,
        description="The segment's latest size is no jump against its recent changes "
        "(analytics.segment_size_anomalies).",
    )
    def _size_has_no_jump(tidemark: TidemarkResource) -> dg.AssetCheckResult:
        with tidemark.warehouse().session() as session:
            jump = segment_jump(session, segment.name)
        return dg.AssetCheckResult(
            passed=jump is None,
            description=jump or "the latest size is within the segment's recent changes",
        )

    return _size_has_no_jump


@dg.asset_check(
    asset=dg.AssetKey(list(DELIVERABILITY_ANOMALIES)),
    name=DELIVERABILITY_CHECK,
    blocking=True,
    description="The latest day's bounce and complaint rates are within their recent history.",
)
def no_bounce_or_complaint_spike(tidemark: TidemarkResource) -> dg.AssetCheckResult:
    with tidemark.warehouse().session() as session:
        spikes = deliverability_spikes(session)
    return dg.AssetCheckResult(
        passed=not spikes,
        description="; ".join(spikes) or "no spike on the latest day",
    )


def monitoring_checks(segments: list[Segment]) -> list[dg.AssetChecksDefinition]:
    return [*(segment_size_check(s) for s in segments), no_bounce_or_complaint_spike]


@dg.definitions
def anomaly_checks() -> dg.Definitions:
    segments = discover_segments(load_manifest(get_settings()))
    return dg.Definitions(asset_checks=monitoring_checks(segments))
