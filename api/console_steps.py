"""The steps the CLI runs (generate, load, build, summarise), each with a progress display.

The work itself lives in `connectors` and `activation`; this module only drives it and shows
what happens, so a command that takes more than a second always shows progress.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from activation.overview import Overview, warehouse_overview
from activation.segments import discover_segments
from connectors.dbt_project import (
    BUILD_COMMAND,
    BuildProgress,
    BuildResult,
    NodeResult,
    load_manifest,
    run_dbt,
)
from connectors.landing import open_landing_zone
from connectors.loader import FileOutcome, LoadReport, load_landing_files, pending_files
from connectors.settings import Settings
from connectors.warehouse.factory import open_warehouse


class StepFailedError(RuntimeError):
    """A step that could not complete; its message is meant for the person at the terminal."""


@dataclass
class Timings:
    """Seconds per step, in the order they ran, for the closing summary."""

    steps: dict[str, float] = field(default_factory=dict)

    def record(self, name: str, seconds: float) -> None:
        self.steps[name] = seconds


def _progress(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def generate_demo_step(settings: Settings, console: Console, timings: Timings) -> None:
    from connectors.sources.demo_data import write_demo_data

    landing = open_landing_zone(settings)
    started = time.perf_counter()
    with _progress(console) as progress:
        task = progress.add_task(
            f"Generating {settings.demo_profiles:,} demo profiles",
            total=None,
            detail="",
        )
        rows: dict[str, int] = {}

        def on_batch(dataset: str, count: int) -> None:
            rows[dataset] = rows.get(dataset, 0) + count
            progress.update(
                task, advance=1, detail=", ".join(f"{k} {v:,}" for k, v in rows.items())
            )

        write_demo_data(
            landing,
            settings.demo_profiles,
            seed=settings.demo_seed,
            now=datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0),
            on_batch=on_batch,
        )
        progress.update(task, total=progress.tasks[0].completed)
    timings.record("generate", time.perf_counter() - started)


def load_step(settings: Settings, console: Console, timings: Timings) -> LoadReport:
    landing = open_landing_zone(settings)
    warehouse = open_warehouse(settings)
    files = pending_files(landing, warehouse)
    with _progress(console) as progress:
        task = progress.add_task("Loading landing files", total=len(files), detail="")
        rows = 0

        def on_file(outcome: FileOutcome) -> None:
            nonlocal rows
            rows += outcome.rows
            progress.update(task, advance=1, detail=f"{rows:,} rows")

        report = load_landing_files(
            landing, warehouse, keys=[f.key for f in files], on_file=on_file
        )
    timings.record("load", report.seconds)
    for outcome in report.with_status("quarantined"):
        console.print(f"[yellow]quarantined[/] {outcome.key}: {outcome.reason}")
    return report


def build_step(
    settings: Settings, console: Console, timings: Timings, select: str | None = None
) -> BuildResult:
    command = [*BUILD_COMMAND] + (["--select", select] if select else [])
    with _progress(console) as progress:
        task = progress.add_task("Building dbt models", total=None, detail="")

        def on_start(total: int) -> None:
            progress.update(task, total=total)

        def on_node(node: NodeResult) -> None:
            progress.update(task, advance=1, detail=node.unique_id.split(".")[-1])

        result = run_dbt(settings, command, progress=BuildProgress(on_start, on_node))
    timings.record("dbt build", result.seconds)
    if not result.success:
        lines = [f"  {n.unique_id}: {n.status} {n.message or ''}" for n in result.failed()]
        detail = "\n".join(lines) or f"  {result.error}"
        raise StepFailedError(f"dbt build failed:\n{detail}")
    return result


def overview(settings: Settings) -> Overview:
    segments = discover_segments(load_manifest(settings))
    return warehouse_overview(open_warehouse(settings), segments)


def print_summary(console: Console, data: Overview, timings: Timings | None = None) -> None:
    console.print()
    console.print(
        f"[bold]{data.profiles:,}[/] profiles · "
        f"{data.email_reachable:,} reachable by email · {data.sms_reachable:,} by SMS"
    )
    table = Table(title="Segments", title_justify="left")
    table.add_column("segment")
    table.add_column("label")
    table.add_column("channels")
    table.add_column("members", justify="right")
    for size in data.segments:
        members = "not built" if size.members is None else f"{size.members:,}"
        table.add_row(
            size.segment.model, size.segment.label, ", ".join(size.segment.channels), members
        )
    console.print(table)
    if timings and timings.steps:
        parts = [f"{name} {seconds:.1f}s" for name, seconds in timings.steps.items()]
        console.print(
            "Timings: " + " · ".join(parts) + f" · total {sum(timings.steps.values()):.1f}s"
        )
