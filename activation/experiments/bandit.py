"""Thompson sampling over the arms of a bandit experiment: each wave's share per arm.

Each arm's primary metric is a yes/no per exposed member, so its rate has a Beta posterior:
Beta(1 + members who did, 1 + members who did not), from a flat prior, read from the
warehouse (`analytics.experiment_variant_stats`: the exposures and outcomes so far, as the
experiment models define them; before they are built every arm has the flat prior). The
chance each arm is best is estimated by drawing `draws` samples from every posterior and
counting how often each arm's draw is the highest; the wave's shares follow those chances,
lifted so every arm keeps at least the floor:

    share = floor + (1 - arms * floor) * chance_best

The draws come from a generator seeded by (seed, wave): the same data, seed and wave give
the same decision on every machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from sqlalchemy.orm import Session, sessionmaker

from activation.experiments.config import BanditConfig, ExperimentConfig, ExperimentMode
from activation.experiments.tables import BANDIT_ALLOCATIONS, ensure_experiment_tables
from connectors.ops_store.bandit_allocations import (
    ArmAllocation,
    all_allocations,
    allocations_of_run,
    record_allocations,
    waves_decided,
)
from connectors.ops_store.engine import write_transaction
from connectors.warehouse.base import Warehouse

if TYPE_CHECKING:
    from activation.definition import ActivationDefinition

VARIANT_STATS = "analytics.experiment_variant_stats"


def posteriors(
    warehouse: Warehouse, experiment: ExperimentConfig
) -> dict[str, tuple[float, float]]:
    """(alpha, beta) per variant from the outcomes so far; the flat prior (1, 1) without any."""
    result = {v.name: (1.0, 1.0) for v in experiment.variants}
    if not warehouse.table_exists(*VARIANT_STATS.split(".")):
        return result
    rows = warehouse.query_arrow(
        f"select variant, users, count from {VARIANT_STATS} where experiment_id = ? and metric = ?",
        [experiment.id, experiment.primary_metric.value],
    ).to_pylist()
    for row in rows:
        if row["variant"] in result:
            successes = float(row["count"] or 0)
            failures = float(row["users"] or 0) - successes
            result[row["variant"]] = (1.0 + successes, 1.0 + failures)
    return result


def thompson_allocation(
    posterior: Mapping[str, tuple[float, float]],
    bandit: BanditConfig,
    wave: int,
) -> list[ArmAllocation]:
    """Each arm's chance of being best and its share of the wave, in the given arm order."""
    arms: Sequence[str] = list(posterior)
    if len(arms) < 2:
        raise ValueError("a bandit needs two or more arms")
    if bandit.floor * len(arms) > 1:
        raise ValueError(f"a floor of {bandit.floor} per arm leaves nothing for {len(arms)} arms")
    generator = np.random.default_rng([bandit.seed, wave])
    alphas = np.array([posterior[a][0] for a in arms])
    betas = np.array([posterior[a][1] for a in arms])
    samples = generator.beta(alphas, betas, size=(bandit.draws, len(arms)))
    wins = np.bincount(samples.argmax(axis=1), minlength=len(arms))
    chances = wins / bandit.draws
    spread = 1 - len(arms) * bandit.floor
    return [
        ArmAllocation(
            wave=wave,
            arm=arm,
            alpha=float(alphas[i]),
            beta=float(betas[i]),
            probability_best=float(chances[i]),
            share=bandit.floor + spread * float(chances[i]),
            seed=bandit.seed,
            draws=bandit.draws,
        )
        for i, arm in enumerate(arms)
    ]


def with_shares(
    experiment: ExperimentConfig, decisions: Sequence[ArmAllocation]
) -> ExperimentConfig:
    """The experiment with each variant's weight set to its share of this wave."""
    shares = {d.arm: d.share for d in decisions}
    variants = [v.model_copy(update={"weight": shares[v.name]}) for v in experiment.variants]
    return experiment.model_copy(update={"variants": variants})


def mirror_allocations(
    sessions: sessionmaker[Session], warehouse: Warehouse, experiment_id: str
) -> None:
    """Replace the experiment's rows of `tidemark.bandit_allocations` with the ops store's."""
    with sessions() as session:
        rows = all_allocations(session, experiment_id)
    table = pa.table(
        {
            "experiment_id": pa.array([r.experiment_id for r in rows], pa.string()),
            "wave": pa.array([r.wave for r in rows], pa.int32()),
            "arm": pa.array([r.arm for r in rows], pa.string()),
            "run_id": pa.array([r.run_id for r in rows], pa.string()),
            "alpha": pa.array([r.alpha for r in rows], pa.float64()),
            "beta": pa.array([r.beta for r in rows], pa.float64()),
            "probability_best": pa.array([r.probability_best for r in rows], pa.float64()),
            "share": pa.array([r.share for r in rows], pa.float64()),
            "seed": pa.array([r.seed for r in rows], pa.int64()),
            "draws": pa.array([r.draws for r in rows], pa.int32()),
            "decided_at": pa.array(
                [r.decided_at.astimezone(UTC).replace(tzinfo=None) for r in rows],
                pa.timestamp("us"),
            ),
        }
    )
    with warehouse.session() as wh:
        ensure_experiment_tables(wh)
        wh.begin()
        try:
            wh.execute(f"delete from {BANDIT_ALLOCATIONS} where experiment_id = ?", [experiment_id])
            wh.insert_arrow(BANDIT_ALLOCATIONS, table)
            wh.commit()
        except BaseException:
            wh.rollback()
            raise


def decide_wave(
    sessions: sessionmaker[Session],
    warehouse: Warehouse,
    definition: ActivationDefinition,
    *,
    run_id: str,
    now: datetime,
    record: bool = True,
) -> tuple[ActivationDefinition, int | None]:
    """The definition to plan this run with, and its wave cap (None: no cap).

    For a bandit experiment: the run's recorded decision if it has one (a resumed run), else
    a new one for the next wave, recorded (unless `record` is false, for dry runs) and
    mirrored. Any other definition comes back unchanged.
    """
    experiment = definition.experiment
    if experiment is None or experiment.mode is not ExperimentMode.BANDIT:
        return definition, None
    bandit = experiment.bandit
    assert bandit is not None
    with sessions() as session:
        decisions = allocations_of_run(session, experiment.id, run_id)
        decided = waves_decided(session, experiment.id)
    if not decisions:
        decisions = thompson_allocation(posteriors(warehouse, experiment), bandit, decided + 1)
        if record:
            with write_transaction(sessions) as session:
                record_allocations(session, experiment.id, run_id, decisions, now)
            mirror_allocations(sessions, warehouse, experiment.id)
    wave = decisions[0].wave
    planned = definition.model_copy(update={"experiment": with_shares(experiment, decisions)})
    return planned, bandit.wave_size if wave <= bandit.waves else None
