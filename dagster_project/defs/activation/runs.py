"""Run an activation from Dagster and describe the outcome as run metadata.

Shared by the per-activation assets (declared in dbt, scheduled) and the generic job that
carries out requests from the API, so both paths run the engine the same way.
"""

from typing import Any

import dagster as dg

from activation.engine import ActivationEngine, RunReport


def run_activation(
    engine: ActivationEngine,
    name: str,
    *,
    run_id: str | None,
    dry_run: bool,
    requested_by: str,
    workers: int = 1,
) -> RunReport:
    """Dry-run or run; `workers` > 1 delivers with that many worker processes (see
    `activation.delivery_shares`), started beside this op and awaited by it."""
    if dry_run:
        return engine.dry_run(name, requested_by=requested_by, run_id=run_id)
    return engine.run(name, requested_by=requested_by, run_id=run_id, workers=workers)


def report_metadata(report: RunReport) -> dict[str, Any]:
    """Counts a person checks first: planned, sent, failed, excluded, in doubt."""
    plan = report.plan
    metadata: dict[str, Any] = {
        "run_id": report.run_id,
        "status": report.status,
        "sent": report.counts.get("sent", 0),
        "failed": report.counts.get("failed", 0),
        "in_doubt": report.counts.get("in_doubt", 0),
        "excluded_at_send": report.counts.get("excluded", 0),
        "waiting": report.counts.get("planned", 0),
    }
    if plan is not None:
        metadata |= {
            "members": plan.members,
            "planned": plan.planned,
            "deferred": plan.deferred,
            "excluded": dg.MetadataValue.json(plan.excluded),
        }
    if report.next_due_at is not None:
        metadata["next_due_at"] = report.next_due_at.isoformat()
    if report.reason:
        metadata["reason"] = report.reason
    return metadata


def fail_on(report: RunReport) -> None:
    """A run the destination stopped is a failed Dagster run, with the reason."""
    if report.status == "failed":
        raise dg.Failure(
            description=report.reason or "the activation run failed",
            metadata=report_metadata(report),
        )
