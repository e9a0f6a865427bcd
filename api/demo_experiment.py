"""The demo's experiment step: recipients answer the welcome email's A/B test, results follow.

The demo's activation A/B tests two subject lines with a holdout, into a local SMTP sink
where nobody reads mail. This step plays the recipients (`simulated_responses`: the friendly
subject line is truly better), lands their responses through the feedback path real provider
events take, loads and rebuilds, and prints the experiment's results. When nothing new was
sent there is nothing to answer: nothing lands and nothing is rebuilt.
"""

from __future__ import annotations

from rich.console import Console

from activation.definition import ActivationDefinition
from activation.experiments.simulated_responses import (
    ArmBehaviour,
    SimulatedAudience,
    simulate_responses,
)
from api.console_steps import Timings, build_step, load_step
from api.experiment_report import print_experiment_results
from connectors.landing import open_landing_zone
from connectors.settings import Settings
from connectors.warehouse.factory import open_warehouse

DEMO_ARMS = {
    # 20% of recipients click, and a quarter of those order.
    "plain": ArmBehaviour(open_rate=0.40, click_given_open=0.50, order_given_click=0.25),
    # The truly better arm, by a margin wide enough to show at the tests' small demo sizes:
    # 60% click, and 35% of those order.
    "friendly": ArmBehaviour(open_rate=0.80, click_given_open=0.75, order_given_click=0.35),
}
DEMO_HOLDOUT_ORDER_RATE = 0.02


def demo_audience(settings: Settings) -> SimulatedAudience:
    """The demo's recipients, answering the same way for the same demo seed."""
    return SimulatedAudience(
        arms=DEMO_ARMS, holdout_order_rate=DEMO_HOLDOUT_ORDER_RATE, seed=settings.demo_seed
    )


def demo_experiment_step(
    settings: Settings, console: Console, definition: ActivationDefinition
) -> None:
    """Simulate responses to the activation's experiment, rebuild, print the results."""
    experiment = definition.experiment
    if experiment is None:
        return
    warehouse = open_warehouse(settings)
    report = simulate_responses(
        warehouse,
        open_landing_zone(settings),
        activation=definition.name,
        experiment=experiment,
        audience=demo_audience(settings),
    )
    console.print(
        f"\nSimulated recipients of experiment {experiment.id!r}: "
        f"{report.messages:,} new messages answered with {report.feedback_events:,} "
        f"SendGrid-shaped events, {report.orders:,} orders"
    )
    if report.feedback_events or report.orders:
        timings = Timings()
        load_step(settings, console, timings)
        build_step(settings, console, timings)
        console.print(f"  loaded and rebuilt in {sum(timings.steps.values()):.1f}s")
    else:
        console.print("  nothing new to answer, so nothing to load or rebuild")
    print_experiment_results(console, warehouse, experiment.id)
