"""Printing activation runs for people at a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from activation.definition import ActivationDefinition
from activation.engine import RunReport


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
