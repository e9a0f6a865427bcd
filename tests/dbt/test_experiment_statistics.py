"""`analytics.experiment_results` in DuckDB equals the Python reference to 1e-9 relative.

Sufficient statistics for several experiments are generated (tiny arms, zero conversions, an
arm where everyone converts, unequal weights with the holdout as control, a metric where lower
is better, arms of half a million), written where the model reads them: the experiments'
configuration through the engine's own `register_experiment`, the per-arm statistics as
`analytics.experiment_variant_stats`. Only the statistics model is built, so the numbers can
reach regions (huge degrees of freedom, p-values near 1e-30) real feedback seldom does.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest

from activation.experiments.assignment import arms as arms_of
from activation.experiments.config import ExperimentConfig, Metric
from activation.experiments.tables import ensure_experiment_tables, register_experiment
from connectors.warehouse.base import Warehouse
from connectors.warehouse.duckdb import DuckDBWarehouse
from tests.activation.experiments.stats_reference import Arm, compare, srm_p_value
from tests.dbt.test_dbt_project import failures, run_dbt_build

pytestmark = pytest.mark.slow

RELATIVE = 1e-9

EXPERIMENTS = [
    {
        "id": "balanced",
        "variants": [{"name": "a"}, {"name": "b"}],
        "holdout_percent": 10,
        "primary_metric": "conversion",
        "guardrail_metrics": ["click", "revenue", "unsubscribe"],
    },
    {
        "id": "tiny",
        "variants": [{"name": "a"}, {"name": "b"}, {"name": "c"}],
        "primary_metric": "revenue",
        "guardrail_metrics": ["conversion"],
    },
    {"id": "zero_control", "variants": [{"name": "a"}, {"name": "b"}]},
    {
        "id": "everyone_converts",
        "variants": [{"name": "a"}, {"name": "b"}],
        "guardrail_metrics": ["click"],
    },
    {
        "id": "unequal",
        "variants": [
            {"name": "a", "weight": 1},
            {"name": "b", "weight": 3},
            {"name": "c", "weight": 6},
        ],
        "holdout_percent": 5,
        "control": "holdout",
        "primary_metric": "revenue",
        "guardrail_metrics": ["conversion", "complaint"],
    },
]

# users per arm, in the arms' order (holdout first when there is one)
USERS = {
    "balanced": [1_031, 4_480, 4_552],
    "tiny": [1, 2, 3],
    "zero_control": [400, 420],
    "everyone_converts": [50, 60],
    "unequal": [26_000, 49_000, 148_000, 301_000],
}


def generate(
    rng: np.random.Generator, experiment_id: str, arm_index: int, users: int, metric: Metric
) -> tuple[int, float, float]:
    """(count, sum, sum_squares) of one arm for one metric."""
    if metric is Metric.REVENUE:
        spends = rng.random(users) < 0.3 + 0.05 * arm_index
        values = np.where(spends, np.round(rng.lognormal(3.5, 0.8, users), 2), 0.0)
        if experiment_id == "tiny":
            values = np.array([12.5, 0.0, 40.0][:users]) * (arm_index + 1)
        return int((values != 0).sum()), float(values.sum()), float((values * values).sum())
    rate = {
        Metric.CONVERSION: 0.05,
        Metric.CLICK: 0.12,
        Metric.UNSUBSCRIBE: 0.004,
        Metric.COMPLAINT: 0.001,
    }[metric] * (1 + 0.15 * arm_index)
    if experiment_id == "zero_control" and arm_index == 0:
        rate = 0.0
    if experiment_id == "everyone_converts" and arm_index == 1:
        rate = 1.0
    if experiment_id == "tiny":
        rate = 0.5
    count = int(rng.binomial(users, rate))
    return count, float(count), float(count)


def write_statistics(warehouse: Warehouse) -> tuple[dict[str, ExperimentConfig], list[dict]]:
    """Register EXPERIMENTS and write their generated per-arm statistics into `warehouse`.

    The DDL is DuckDB's dialect, which every warehouse translates, so the engines' tests
    (tests/engines/test_experiment_statistics_on_engines.py) put in the very same numbers.
    """
    rng = np.random.default_rng(20261128)
    stats_rows = []
    configs = {}
    with warehouse.session() as session:
        ensure_experiment_tables(session)
        for values in EXPERIMENTS:
            config = ExperimentConfig.model_validate(values)
            configs[config.id] = config
            register_experiment(session, f"activation_{config.id}", config, datetime(2026, 6, 1))
            for index, arm in enumerate(arms_of(config)):
                for metric in Metric:
                    count, total, squares = generate(
                        rng, config.id, index, USERS[config.id][index], metric
                    )
                    stats_rows.append(
                        {
                            "experiment_id": config.id,
                            "variant": arm.name,
                            "metric": metric.value,
                            "metric_type": metric.metric_type,
                            "is_holdout": arm.is_holdout,
                            "users": USERS[config.id][index],
                            "count": count,
                            "sum": total,
                            "sum_squares": squares,
                        }
                    )
        session.execute("create schema if not exists analytics")
        session.execute(
            "create table analytics.experiment_variant_stats (experiment_id varchar, "
            "variant varchar, metric varchar, metric_type varchar, is_holdout boolean, "
            "users bigint, count bigint, sum double, sum_squares double)"
        )
        session.insert_arrow("analytics.experiment_variant_stats", pa.Table.from_pylist(stats_rows))
    return configs, stats_rows


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The warehouse after building the results model, and the statistics put in."""
    run_dir = tmp_path_factory.mktemp("experiment_statistics")
    path = run_dir / "warehouse.duckdb"
    warehouse = DuckDBWarehouse(path)
    configs, stats_rows = write_statistics(warehouse)
    with pytest.MonkeyPatch.context() as monkeypatch:
        result = run_dbt_build(
            path,
            run_dir,
            monkeypatch,
            dbt_vars={},
            extra_args=["--select", "stg_tidemark__experiments", "experiment_results"],
        )
    assert result.success, failures(result)
    rows = warehouse.query_arrow("select * from analytics.experiment_results").to_pylist()
    return configs, stats_rows, rows


def expected_rows(configs, stats_rows):
    by_key = {(r["experiment_id"], r["variant"], r["metric"]): r for r in stats_rows}
    expected = {}
    for config in configs.values():
        arms = arms_of(config)
        srm = srm_p_value(
            [USERS[config.id][i] for i in range(len(arms))], [a.traffic_share for a in arms]
        )
        for metric in config.metrics:

            def arm_stats(name, config=config, metric=metric):
                row = by_key[(config.id, name, metric.value)]
                return Arm(
                    row["users"],
                    row["sum"],
                    row["sum_squares"],
                    binomial=metric.metric_type == "binomial",
                )

            control = arm_stats(config.control_arm)
            for arm in arms:
                stats = arm_stats(arm.name)
                figures = (
                    compare(stats, control, higher_is_better=metric.higher_is_better).__dict__
                    if arm.name != config.control_arm
                    else dict.fromkeys(compare(stats, control).__dict__)
                )
                expected[(config.id, arm.name, metric.value)] = {
                    "is_control": arm.name == config.control_arm,
                    "weight": arm.weight,
                    "users": stats.users,
                    "mean": stats.mean,
                    "control_mean": control.mean,
                    "srm_p_value": srm,
                    **figures,
                }
    return expected


def close(actual, wanted):
    if wanted is None or actual is None:
        return actual is None and wanted is None
    if isinstance(wanted, bool):
        return actual is wanted
    return math.isclose(actual, wanted, rel_tol=RELATIVE, abs_tol=1e-300)


def test_results_equal_the_reference(built):
    configs, stats_rows, rows = built
    expected = expected_rows(configs, stats_rows)
    actual = {(r["experiment_id"], r["variant"], r["metric"]): r for r in rows}
    assert set(actual) == set(expected)
    mismatches = [
        f"{key} {column}: sql {actual[key][column]!r} reference {value!r}"
        for key, figures in expected.items()
        for column, value in figures.items()
        if not close(actual[key][column], value)
    ]
    assert not mismatches, "\n".join(mismatches)


def test_edge_cases_give_nulls_not_errors(built):
    _configs, _stats, rows = built
    by_key = {(r["experiment_id"], r["variant"], r["metric"]): r for r in rows}
    zero = by_key[("zero_control", "b", "conversion")]
    assert zero["control_mean"] == 0 and zero["relative_lift"] is None
    assert zero["absolute_lift"] > 0
    tiny = by_key[("tiny", "b", "revenue")]
    assert tiny["users"] == 2 and tiny["p_value"] is None  # the control has one user
    strong = by_key[("unequal", "c", "revenue")]
    assert strong["p_value"] < 1e-20 and strong["chance_to_beat_control"] == 1.0
    assert (
        sum(
            r["is_control"]
            for r in rows
            if r["experiment_id"] == "unequal" and r["metric"] == "revenue"
        )
        == 1
    )
