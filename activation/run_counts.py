"""A run's counts as users read them, from its stored plan and its ledger's message states.

The warehouse mirror (`tidemark.activation_runs`) and the API's live progress show the same
numbers, so they are computed here once: excluded is what the plan excluded plus what the
final gate excluded at send time; pending is what is planned or being sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunCounts:
    planned: int | None
    sent: int
    failed: int
    excluded: int
    in_doubt: int
    pending: int
    cancelled: int


def run_counts(plan: dict[str, Any] | None, ledger: dict[str, int]) -> RunCounts:
    """Counts from a run's plan document and `state_counts` of its outbox rows."""
    plan = plan or {}
    excluded_in_plan = sum((plan.get("excluded") or {}).values())
    return RunCounts(
        planned=plan.get("planned"),
        sent=ledger.get("sent", 0),
        failed=ledger.get("failed", 0),
        excluded=excluded_in_plan + ledger.get("excluded", 0),
        in_doubt=ledger.get("in_doubt", 0),
        pending=ledger.get("planned", 0) + ledger.get("sending", 0),
        cancelled=ledger.get("cancelled", 0),
    )
