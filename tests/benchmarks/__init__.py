"""Benchmarks of Tidemark's core loop, run by `make bench` (`python -m tests.benchmarks`).

A benchmark is a module `bench_<name>.py` in this folder (never `test_*.py`: pytest must not
collect them; they take minutes) with one function, `run(options: BenchOptions) -> BenchReport`.
The runner (`__main__`) finds the modules, runs them, prints each report as a table and writes
it as JSON to `test-artifacts/benchmarks/<name>.json`.

Goals are reported, not asserted: a missed goal is a finding to explain with numbers, not a
failure. What *is* checked is that a benchmark measured the right thing (e.g. that the fast
query and the dbt model agree); such a check raises `BenchmarkSanityError`.

The machine is usually shared, so every measurement records the load average around it.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

if TYPE_CHECKING:
    from connectors.dbt_project import BuildResult


class BenchmarkSanityError(AssertionError):
    """A benchmark's own consistency check failed: its figures would be meaningless."""


@dataclass(frozen=True)
class BenchOptions:
    """How to run: repetitions per measurement and the data scale (1.0 = the issue's sizes)."""

    runs: int = 3
    scale: float = 1.0

    def scaled(self, full_size: int, minimum: int = 10) -> int:
        return max(minimum, round(full_size * self.scale))


@dataclass(frozen=True)
class Figure:
    """One measured quantity over the runs, with the goal it is held against (if any).

    A goal is an upper bound: the figure meets it when its median is at most the goal.
    """

    label: str
    unit: str
    samples: tuple[float, ...]
    goal: float | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if not self.samples:
            raise ValueError(f"figure {self.label!r} has no samples")

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)

    @property
    def meets_goal(self) -> bool | None:
        return None if self.goal is None else self.median <= self.goal

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "unit": self.unit,
            "samples": list(self.samples),
            "median": self.median,
            "min": self.low,
            "max": self.high,
            "goal": self.goal,
            "meets_goal": self.meets_goal,
            "note": self.note,
        }


@dataclass
class BenchReport:
    """What one benchmark module measured: its figures plus per-run details and context."""

    name: str
    title: str
    options: BenchOptions
    figures: list[Figure] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "options": {"runs": self.options.runs, "scale": self.options.scale},
            "machine": machine_facts(),
            "code": code_version(),
            "context": self.context,
            "figures": [f.to_json() for f in self.figures],
            "runs": self.runs,
        }


def slowest_models(result: BuildResult, count: int = 5) -> list[dict[str, Any]]:
    """The `count` slowest models of a dbt invocation: where a build's time went."""
    models = [n for n in result.nodes if n.resource_type == "model"]
    return [
        {"node": n.unique_id.split(".")[-1], "seconds": round(n.seconds, 2)}
        for n in sorted(models, key=lambda n: -n.seconds)[:count]
    ]


def load_average() -> tuple[float, float, float]:
    """1, 5 and 15 minute load averages (what `uptime` shows), to judge a noisy measurement."""
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def code_version() -> str:
    """The commit measured, with `+dirty` when the working tree has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def machine_facts() -> dict[str, Any]:
    """The facts docs/benchmarks.md quotes: CPU, cores, RAM, OS and the engines' versions."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": _version("duckdb"),
        "dbt_core": _version("dbt-core"),
        "dbt_duckdb": _version("dbt-duckdb"),
        "great_expectations": _version("great-expectations"),
    }
