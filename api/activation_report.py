"""Printing activation runs for people at a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from activation.definition import ActivationDefinition
from activation.engine import DeferredRun, RunReport


def print_activations(console: Console, activations: list[ActivationDefinition]) -> None:
    table = Table(title="Activations", title_justify="left")
    for column in ("name", "segment", "destination", "channel", "mode", "schedule", "declared in"):
        table.add_column(column)
    for a in activations:
        table.add_row(
            a.name,
            a.segment,
            a.destination,
            a.channel.value,
            a.mode.value,
            a.schedule,
            a.declared_in,
        )
    console.print(table)


def print_run(console: Console, report: RunReport) -> None:
    console.print(
        f"[bold]{report.activation}[/] {report.kind} {report.run_id}: [bold]{report.status}[/]"
        + (f" — {report.reason}" if report.reason else "")
    )
    plan = report.plan
    if plan is not None:
        console.print(
            f"  plan: {plan.members:,} members · {plan.added:,} added · {plan.changed:,} changed "
            f"· {plan.removed:,} removed → {plan.planned:,} to send"
            + (f" ({plan.deferred:,} deferred by quiet hours)" if plan.deferred else "")
        )
        if plan.excluded:
            reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(plan.excluded.items()))
            console.print(f"  excluded: {reasons}")
    if report.counts:
        states = " · ".join(f"{state} {n:,}" for state, n in sorted(report.counts.items()))
        console.print(f"  messages: {states}")
    sent = report.delivery.counts.get("sent", 0) if report.delivery is not None else 0
    if report.delivery is not None and sent:
        rate = sent / report.delivery.seconds if report.delivery.seconds else 0
        console.print(f"  delivered {sent:,} in {report.delivery.seconds:.1f}s ({rate:,.0f}/s)")
    for sample in report.samples:
        console.print(f"  sample → {sample.to}: {sample.subject or ''}")
        body = sample.text or (str(sample.payload) if sample.payload else "")
        if body:
            console.print(f"    {body[:200]}")


DELIVERED_STATES = ("sent", "failed", "excluded", "in_doubt")


def print_due_deliveries(
    console: Console, reports: list[RunReport], still_deferred: list[DeferredRun], *, checked: int
) -> None:
    """One pass over the deferred runs: what each due run delivered now, and what still waits."""
    if not reports:
        console.print(f"No deferred run has a message due ({checked:,} deferred runs checked).")
    else:
        table = Table(title="Deferred runs delivered", title_justify="left")
        table.add_column("run")
        table.add_column("activation")
        table.add_column("status")
        for state in (*DELIVERED_STATES, "still waiting"):
            table.add_column(state.replace("_", " "), justify="right")
        for report in reports:
            now_delivered = report.delivery.counts if report.delivery is not None else {}
            table.add_row(
                report.run_id,
                report.activation,
                report.status,
                *(f"{now_delivered.get(state, 0):,}" for state in DELIVERED_STATES),
                f"{report.counts.get('planned', 0):,}",
            )
        console.print(table)
        for report in reports:
            if report.reason and (report.delivery is None or report.status == "failed"):
                console.print(f"  {report.run_id}: {report.reason}")
    if still_deferred:
        dated = [run.next_due_at for run in still_deferred if run.next_due_at is not None]
        console.print(
            f"Still deferred: {len(still_deferred):,} runs"
            + (f"; the next message is due at {min(dated):%Y-%m-%d %H:%M:%S} UTC" if dated else "")
        )
