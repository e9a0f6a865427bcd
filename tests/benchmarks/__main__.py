"""Run the benchmarks: `python -m tests.benchmarks [name ...] [--runs N] [--scale X]`.

Every `bench_<name>.py` module in this folder is run (or only those named), its report is
printed as a table and written to `test-artifacts/benchmarks/<name>.json`. Goals are shown as
met or missed; the exit code is non-zero only when a benchmark could not measure (an error or
a failed sanity check), never because a goal was missed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from rich.console import Console
from rich.table import Table

import tests.benchmarks as package
from connectors.settings import REPO_ROOT
from tests.benchmarks import BenchOptions, BenchReport, Figure, load_average

ARTIFACTS_DIR = REPO_ROOT / "test-artifacts" / "benchmarks"
PREFIX = "bench_"


def available() -> list[str]:
    """Benchmark names (module names without the `bench_` prefix), sorted."""
    return sorted(
        info.name.removeprefix(PREFIX)
        for info in pkgutil.iter_modules(package.__path__)
        if info.name.startswith(PREFIX)
    )


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{package.__name__}.{PREFIX}{name.removeprefix(PREFIX)}")


def _goal_cell(figure: Figure) -> str:
    if figure.goal is None:
        return ""
    verdict = "[green]met[/]" if figure.meets_goal else "[red]missed[/]"
    return f"≤ {figure.goal:g} {figure.unit} {verdict}"


def _number(value: float) -> str:
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


def figures_table(report: BenchReport) -> Table:
    table = Table(title=f"{report.title} ({report.options.runs} runs)", title_justify="left")
    table.add_column("figure")
    table.add_column("median", justify="right")
    table.add_column("min … max", justify="right")
    table.add_column("unit")
    table.add_column("goal")
    table.add_column("note")
    for figure in report.figures:
        table.add_row(
            figure.label,
            _number(figure.median),
            f"{_number(figure.low)} … {_number(figure.high)}",
            figure.unit,
            _goal_cell(figure),
            figure.note,
        )
    return table


def runs_table(report: BenchReport) -> Table:
    """The machine load around each run: figures taken under load are noisier."""
    table = Table(title="Load average (1 min) around each run", title_justify="left")
    table.add_column("run", justify="right")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    for index, run in enumerate(report.runs, start=1):
        before, after = run.get("load_before", ("?",)), run.get("load_after", ("?",))
        table.add_row(str(index), str(before[0]), str(after[0]))
    return table


def write_json(report: BenchReport, directory: Path = ARTIFACTS_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{report.name}.json"
    document = {"finished_at": datetime.now(UTC).isoformat(), **report.to_json()}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path


def run_benchmark(
    name: str, options: BenchOptions, console: Console, out: Path = ARTIFACTS_DIR
) -> BenchReport:
    module = _module(name)
    console.rule(f"[bold]{name}[/] — load average {load_average()}")
    started = time.perf_counter()
    report: BenchReport = module.run(options)
    console.print(figures_table(report))
    console.print(runs_table(report))
    path = write_json(report, out)
    elapsed = time.perf_counter() - started
    console.print(f"{name}: {elapsed:.0f}s; figures written to {path}")
    return report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks", description="Run Tidemark's benchmarks."
    )
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(available())})"
    )
    parser.add_argument("--runs", type=int, default=3, help="repetitions (default 3; median)")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="data scale relative to the issue's sizes (1.0 = 1,000,000 profiles)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ARTIFACTS_DIR,
        help=f"folder for the JSON reports (default {ARTIFACTS_DIR.relative_to(REPO_ROOT)})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    if args.scale <= 0:
        parser.error(f"--scale must be positive, got {args.scale}")
    known = available()
    names = [n.removeprefix(PREFIX) for n in args.names] or known
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; available: {known}")
    options = BenchOptions(runs=args.runs, scale=args.scale)
    console = Console()
    if not console.is_terminal:
        console.width = 150  # piped to a file or CI log: keep the tables on one line per row
    for name in names:
        run_benchmark(name, options, console, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
