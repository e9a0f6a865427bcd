"""Deterministic assignment of a profile to an experiment arm, the same on every engine.

bucket = int(first 15 hex digits of md5(salt || '/' || profile_id), base 16) mod 10000

md5 in lowercase hex is the one hash DuckDB, ClickHouse and Snowflake all compute identically;
15 hex digits (60 bits) fit a signed 64-bit integer everywhere. The hex is turned into an
integer digit by digit (`strpos` into '0123456789abcdef', Horner's rule) rather than with an
engine's own hex-cast, so the same SQL text transpiles to every dialect. The 10,000 buckets
are cut into consecutive ranges: the holdout first, then each variant in proportion to its
weight. Same salt and profile, same bucket, same arm: across reruns, runs and engines.
`bucket_of` is the same formula in Python, for tests and tools.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from activation.experiments.config import HOLDOUT_ARM, ExperimentConfig

BUCKETS = 10_000
HEX_DIGITS = 15


@dataclass(frozen=True)
class Arm:
    """One arm's bucket range [low, high) and its configured weight."""

    name: str
    is_holdout: bool
    weight: float
    low: int
    high: int

    @property
    def traffic_share(self) -> float:
        """The share of assigned profiles this arm expects (what SRM tests against)."""
        return (self.high - self.low) / BUCKETS


def bucket_of(salt: str, profile_id: str) -> int:
    digest = hashlib.md5(f"{salt}/{profile_id}".encode(), usedforsecurity=False).hexdigest()
    return int(digest[:HEX_DIGITS], 16) % BUCKETS


def digest_sql(salt_sql: str, profile_id_sql: str) -> str:
    """SQL for the assignment hash (lowercase hex) of a profile under a salt (SQL expressions)."""
    return f"md5({salt_sql} || '/' || {profile_id_sql})"


def bucket_sql(digest: str) -> str:
    """SQL for the bucket of a `digest_sql` value; pass a column so md5 runs once per row."""
    value = "0"
    for position in range(1, HEX_DIGITS + 1):
        digit = f"(strpos('0123456789abcdef', substr({digest}, {position}, 1)) - 1)"
        value = f"({value} * 16 + {digit})" if value != "0" else digit
    return f"(cast({value} as bigint) % {BUCKETS})"


def arms(experiment: ExperimentConfig) -> list[Arm]:
    """The arms in bucket order: holdout (when any), then the variants as configured.

    Boundaries are rounded to whole buckets; every variant keeps at least one bucket.
    """
    holdout_buckets = round(experiment.holdout_percent / 100 * BUCKETS)
    if experiment.holdout_percent > 0:
        holdout_buckets = max(holdout_buckets, 1)
    result = []
    if holdout_buckets:
        weight = experiment.holdout_percent / 100
        result.append(Arm(HOLDOUT_ARM, True, weight, 0, holdout_buckets))
    total = sum(v.weight for v in experiment.variants)
    available = BUCKETS - holdout_buckets
    if available < len(experiment.variants):
        raise ValueError("the holdout leaves too few buckets for the variants")
    low, cumulative = holdout_buckets, 0.0
    for index, variant in enumerate(experiment.variants):
        cumulative += variant.weight
        remaining = len(experiment.variants) - index - 1
        high = holdout_buckets + round(cumulative / total * available)
        high = min(max(high, low + 1), BUCKETS - remaining)
        if remaining == 0:
            high = BUCKETS
        share = (1 - experiment.holdout_percent / 100) * variant.weight / total
        result.append(Arm(variant.name, False, share, low, high))
        low = high
    return result


def arm_of(experiment: ExperimentConfig, profile_id: str) -> str:
    """The arm a profile lands in (Python twin of the plan's SQL)."""
    bucket = bucket_of(experiment.assignment_salt, profile_id)
    for arm in arms(experiment):
        if arm.low <= bucket < arm.high:
            return arm.name
    raise AssertionError("arms cover every bucket")


def arm_sql(experiment: ExperimentConfig, bucket: str) -> str:
    """SQL choosing the arm name for the bucket expression `bucket`."""
    cases = " ".join(
        f"when {bucket} < {arm.high} then '{arm.name}'" for arm in arms(experiment)[:-1]
    )
    last = arms(experiment)[-1].name
    return f"case {cases} else '{last}' end" if cases else f"'{last}'"
