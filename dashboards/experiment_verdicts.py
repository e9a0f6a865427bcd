"""Experiment results, grouped per experiment and metric, with a verdict in plain words.

Rows come from `analytics.experiment_results` (one per experiment x variant x metric; see
the experiments models' yml for how each figure is computed). A marketer needs one sentence
per comparison: is the variant better than the control, worse, or is it too early to say?
The sentence follows the Bayesian figures — chance to beat control, and the 95% credible
interval on the relative lift — and a sample-ratio mismatch is called out first, because
then no figure can be trusted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

CONFIDENT = 0.95
"""Chance to beat control at which a variant is called the winner (or, below 1 - this, worse)."""

SRM_ALARM = 0.001
"""An SRM p-value below this means the arms' sizes do not match their weights."""


@dataclass(frozen=True)
class Comparison:
    """One variant against the control on one metric."""

    variant: str
    users: int
    mean: float | None
    relative_lift: float | None
    low: float | None
    high: float | None
    chance_to_beat_control: float | None
    verdict: str


@dataclass
class MetricResult:
    """One experiment's results on one metric."""

    experiment_id: str
    metric: str
    control: str | None = None
    control_users: int = 0
    control_mean: float | None = None
    srm_warning: str | None = None
    comparisons: list[Comparison] = field(default_factory=list)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def verdict(variant: str, control: str, metric: str, chance: float | None) -> str:
    """The plain-language reading of a variant's chance to beat the control."""
    if chance is None:
        return f"Not enough data yet to compare {variant} with {control}."
    if chance >= CONFIDENT:
        return (
            f"{variant} is very likely better than {control} on {metric} "
            f"({chance:.0%} chance to beat it)."
        )
    if chance <= 1 - CONFIDENT:
        return (
            f"{variant} is very likely worse than {control} on {metric} "
            f"(only {chance:.0%} chance to beat it)."
        )
    return (
        f"No clear winner yet: {variant} has a {chance:.0%} chance to beat {control} on "
        f"{metric}; keep the experiment running."
    )


def group_results(rows: Iterable[Mapping[str, Any]]) -> list[MetricResult]:
    """Rows of `experiment_results`, as one `MetricResult` per experiment and metric."""
    grouped: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault((str(row["experiment_id"]), str(row["metric"])), []).append(row)
    results = []
    for (experiment_id, metric), members in sorted(grouped.items()):
        result = MetricResult(experiment_id=experiment_id, metric=metric)
        control = next((r for r in members if r.get("is_control")), None)
        if control is not None:
            result.control = str(control["variant"])
            result.control_users = int(control.get("users") or 0)
            result.control_mean = _float(control.get("mean"))
        srm = _float(members[0].get("srm_p_value"))
        if srm is not None and srm < SRM_ALARM:
            result.srm_warning = (
                f"Sample ratio mismatch (p = {srm:.2g}): the arms' sizes do not match their "
                "weights, so these results cannot be trusted until the cause is found."
            )
        for row in members:
            if row.get("is_control"):
                continue
            chance = _float(row.get("chance_to_beat_control"))
            result.comparisons.append(
                Comparison(
                    variant=str(row["variant"]),
                    users=int(row.get("users") or 0),
                    mean=_float(row.get("mean")),
                    relative_lift=_float(row.get("relative_lift")),
                    low=_float(row.get("credible_interval_low")),
                    high=_float(row.get("credible_interval_high")),
                    chance_to_beat_control=chance,
                    verdict=verdict(
                        str(row["variant"]), result.control or "control", metric, chance
                    ),
                )
            )
        results.append(result)
    return results
