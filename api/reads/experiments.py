"""Experiment results, from `analytics.experiment_results`.

Until the first `dbt build` creates the model this read answers an empty list with a note
instead of failing.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from api.reads.freshness import WarehouseRead
from connectors.warehouse.base import Warehouse

if TYPE_CHECKING:
    from api.state import AppState

RESULTS = "analytics.experiment_results"
MAX_ROWS = 1_000


class ExperimentResults(WarehouseRead):
    results: list[dict[str, Any]]
    count: int
    note: str | None = None


def _read(warehouse: Warehouse, now: datetime, experiment: str | None) -> ExperimentResults:
    with warehouse.session() as session:
        if not session.table_exists(*RESULTS.split(".")):
            return ExperimentResults(
                as_of=now, results=[], count=0, note=f"{RESULTS} has not been built yet"
            )
        where = "where experiment_id = $experiment" if experiment else ""
        params = {"limit": MAX_ROWS} | ({"experiment": experiment} if experiment else {})
        rows = session.query_arrow(
            f"select * from {RESULTS} {where} "
            "order by experiment_id, metric, is_control desc, variant limit $limit",
            params,
        )
    results = rows.to_pylist()
    return ExperimentResults(as_of=now, results=results, count=len(results))


def read_experiment_results(state: AppState, experiment: str | None = None) -> ExperimentResults:
    """Every row of the results model (or one experiment's), as the model defines them."""
    return state.reads.read(
        f"experiments:{experiment or ''}", lambda warehouse, now: _read(warehouse, now, experiment)
    )
