"""Experiment results: per experiment and metric, each variant's relative lift over the
control with its 95% credible interval, and a verdict in plain words."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.reads.experiments import read_experiment_results
from api.state import State
from dashboards.access import SignedIn
from dashboards.charts import Interval, Reference, interval_chart
from dashboards.experiment_verdicts import group_results
from dashboards.templating import render
from dashboards.unavailable import or_unavailable

router = APIRouter(include_in_schema=False)


@router.get("/experiments")
def experiments_page(request: Request, state: State, caller: SignedIn) -> Response:
    data = or_unavailable(lambda: read_experiment_results(state))
    results = group_results(data.results)
    charts = [
        interval_chart(
            [
                Interval(c.variant, c.low, c.relative_lift, c.high)
                for c in result.comparisons
                if c.low is not None and c.high is not None and c.relative_lift is not None
            ],
            label=f"{result.experiment_id}: relative lift on {result.metric} over "
            f"{result.control}, 95% credible interval",
            references=[Reference(0.0, "no effect")],
            empty_message="Not enough data for an interval yet",
        )
        for result in results
    ]
    return render(
        request,
        "experiments.html",
        caller,
        data=data,
        results=list(zip(results, charts, strict=True)),
    )
