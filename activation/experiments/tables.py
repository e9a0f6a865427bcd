"""The experiment tables the engine writes in the warehouse, and what dbt reads from them.

- `tidemark.experiments`: one row per experiment x arm (holdout included): the configuration
  the statistics need (traffic share for the SRM test, which arm is the control, the metrics,
  the conversion window). Rewritten from the definition each time a run is planned.
- `tidemark.experiment_assignments`: one row per experiment x profile, written by the plan in
  one set-based insert. The first assignment stands: a rerun, a later run or a changed
  weight never moves a person to another arm (the plan reads this table before hashing).
- `tidemark.bandit_allocations`: one row per bandit experiment x wave x arm, the ops store's
  allocation decisions mirrored for analysts (see `bandit.py`).
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from activation.experiments.assignment import arms
from activation.experiments.config import ExperimentConfig
from activation.warehouse_tables import SCHEMA
from connectors.warehouse.base import WarehouseSession
from connectors.warehouse.bootstrap import ensure_tables

EXPERIMENTS = f"{SCHEMA}.experiments"
ASSIGNMENTS = f"{SCHEMA}.experiment_assignments"
BANDIT_ALLOCATIONS = f"{SCHEMA}.bandit_allocations"

DDL = [
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {EXPERIMENTS} (
        experiment_id varchar not null,
        activation varchar not null,
        variant varchar not null,
        variant_order integer not null,
        is_holdout boolean not null,
        is_control boolean not null,
        weight double not null,
        traffic_share double not null,
        bucket_low integer not null,
        bucket_high integer not null,
        salt varchar not null,
        primary_metric varchar not null,
        guardrail_metrics varchar not null,
        conversion_window_days integer not null,
        updated_at timestamp not null
    )""",
    f"""create table if not exists {ASSIGNMENTS} (
        experiment_id varchar not null,
        profile_id varchar not null,
        variant varchar not null,
        is_holdout boolean not null,
        assigned_at timestamp not null,
        run_id varchar not null
    )""",
    f"""create table if not exists {BANDIT_ALLOCATIONS} (
        experiment_id varchar not null,
        wave integer not null,
        arm varchar not null,
        run_id varchar not null,
        alpha double not null,
        beta double not null,
        probability_best double not null,
        share double not null,
        seed bigint not null,
        draws integer not null,
        decided_at timestamp not null
    )""",
]


def ensure_experiment_tables(session: WarehouseSession) -> None:
    ensure_tables(
        session, SCHEMA, ["experiments", "experiment_assignments", "bandit_allocations"], DDL
    )


def register_experiment(
    session: WarehouseSession, activation: str, experiment: ExperimentConfig, now: datetime
) -> None:
    """Replace the experiment's configuration rows (inside the caller's transaction)."""
    rows = arms(experiment)
    session.execute(f"delete from {EXPERIMENTS} where experiment_id = ?", [experiment.id])
    session.insert_arrow(
        EXPERIMENTS,
        pa.table(
            {
                "experiment_id": [experiment.id] * len(rows),
                "activation": [activation] * len(rows),
                "variant": [a.name for a in rows],
                "variant_order": list(range(len(rows))),
                "is_holdout": [a.is_holdout for a in rows],
                "is_control": [a.name == experiment.control_arm for a in rows],
                "weight": [a.weight for a in rows],
                "traffic_share": [a.traffic_share for a in rows],
                "bucket_low": pa.array([a.low for a in rows], pa.int32()),
                "bucket_high": pa.array([a.high for a in rows], pa.int32()),
                "salt": [experiment.assignment_salt] * len(rows),
                "primary_metric": [experiment.primary_metric.value] * len(rows),
                "guardrail_metrics": [",".join(m.value for m in experiment.guardrail_metrics)]
                * len(rows),
                "conversion_window_days": pa.array(
                    [experiment.conversion_window_days] * len(rows), pa.int32()
                ),
                "updated_at": [now] * len(rows),
            }
        ),
    )


def record_assignments(
    session: WarehouseSession, experiment: ExperimentConfig, run_id: str, now: datetime
) -> None:
    """Add the plan's newly assigned members (`_plan`); known ones keep their first row."""
    session.execute(
        f"""
        insert into {ASSIGNMENTS}
        select $experiment_id, p.profile_id, p.variant, p.variant = 'holdout', $now, $run_id
        from _plan as p
        where p.wanted and (p.reason is null or p.reason = 'holdout')
          and not exists (
              select 1 from {ASSIGNMENTS} as a
              where a.experiment_id = $experiment_id and a.profile_id = p.profile_id
          )
        """,
        {"experiment_id": experiment.id, "now": now, "run_id": run_id},
    )
