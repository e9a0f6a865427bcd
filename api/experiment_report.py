"""Printing an experiment's results for people at a terminal: one row per variant and metric."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from activation.experiments.config import Metric
from connectors.warehouse.base import Warehouse
from dashboards.experiment_verdicts import group_results

RESULTS = "analytics.experiment_results"


def _mean(metric: str, value: float | None) -> str:
    """A binomial metric's mean is a rate; revenue's is money per user."""
    if value is not None and Metric(metric).metric_type == "mean":
        return f"{value:,.2f}"
    return _percent(value)


def _percent(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:+.1%}" if signed else f"{value:.1%}"


def print_experiment_results(console: Console, warehouse: Warehouse, experiment_id: str) -> None:
    """The experiment's rows of `analytics.experiment_results`, each with its verdict."""
    if not warehouse.table_exists(*RESULTS.split(".")):
        console.print(f"  {RESULTS} has not been built yet")
        return
    rows = warehouse.query_arrow(
        f"select * from {RESULTS} where experiment_id = ? "
        "order by metric_role desc, metric, is_control desc, variant_order",
        [experiment_id],
    ).to_pylist()
    table = Table(title=f"Experiment {experiment_id}", title_justify="left")
    for column in ("variant", "users", "metric", "mean", "lift", "chance to beat control"):
        table.add_column(column, justify="right" if column != "variant" else "left")
    table.add_column("95% interval (lift)", justify="right")
    table.add_column("verdict")
    for result in group_results(rows):
        table.add_row(
            f"{result.control} (control)",
            f"{result.control_users:,}",
            result.metric,
            _mean(result.metric, result.control_mean),
            "",
            "",
            "",
            "",
        )
        for comparison in result.comparisons:
            chance = comparison.chance_to_beat_control
            table.add_row(
                comparison.variant,
                f"{comparison.users:,}",
                result.metric,
                _mean(result.metric, comparison.mean),
                _percent(comparison.relative_lift, signed=True),
                "—" if chance is None else f"{chance:.1%}",
                f"{_percent(comparison.low, signed=True)} to "
                f"{_percent(comparison.high, signed=True)}",
                comparison.verdict,
            )
        if result.srm_warning:
            console.print(f"[yellow]{result.srm_warning}[/]")
    console.print(table)
    console.print(f"  every figure is a row of {RESULTS} (query it with SQL)")
