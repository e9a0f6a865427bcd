"""Running Tidemark's dbt project, and reading what it produced.

Both the CLI and Dagster run the same project with the same profile and target; this module
is where that configuration is derived from settings. dbt reads connection details from
environment variables in `dbt/profiles.yml`, so `dbt_env` is the single place settings are
turned into those variables (absolute paths, so the working directory never matters).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.settings import Settings

NODE_TYPES_BUILT = ("model", "seed", "snapshot", "test", "unit_test")


@dataclass(frozen=True)
class NodeResult:
    """One dbt node's outcome in a build."""

    unique_id: str
    resource_type: str
    status: str
    seconds: float
    message: str | None = None


@dataclass
class BuildResult:
    """A dbt invocation's outcome, in the terms the CLI and summaries need."""

    success: bool
    nodes: list[NodeResult] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def failed(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in {"error", "fail", "runtime error"}]


@dataclass
class BuildProgress:
    """Callbacks for a progress display: the node count, then each finished node."""

    on_start: Callable[[int], None] = lambda total: None
    on_node: Callable[[NodeResult], None] = lambda node: None


BUILD_COMMAND = ("build", "--exclude-resource-type", "unit_test")
"""`dbt build` as data runs it: models, snapshots, seeds and data tests, but no unit tests.

Unit tests check model logic on fixed inputs, so their answer cannot change with the data; they
belong to development and CI (`make test` runs them), as dbt recommends, not to every sync,
where they cost seconds of every incremental build.
"""


DUCKDB_DEFAULT_MEMORY_LIMIT = "80%"
"""DuckDB's own default, stated so that an unset limit also resets one exported earlier."""


def dbt_env(settings: Settings) -> dict[str, str]:
    """The environment variables `dbt/profiles.yml` reads, derived from settings."""
    env = {
        "TIDEMARK_DUCKDB_PATH": str(settings.duckdb_file),
        "TIDEMARK_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit or DUCKDB_DEFAULT_MEMORY_LIMIT,
        "DBT_PROFILES_DIR": str(settings.dbt_project_dir),
    }
    if settings.warehouse == "clickhouse":
        env |= _clickhouse_env(settings)
    elif settings.warehouse == "snowflake":
        env |= _snowflake_env(settings)
    return env


def _clickhouse_env(settings: Settings) -> dict[str, str]:
    return {
        "TIDEMARK_CLICKHOUSE_HOST": settings.clickhouse_host or "localhost",
        "TIDEMARK_CLICKHOUSE_PORT": str(settings.clickhouse_port),
        "TIDEMARK_CLICKHOUSE_USER": settings.clickhouse_user,
        "TIDEMARK_CLICKHOUSE_PASSWORD": settings.clickhouse_password.get_secret_value(),
        "TIDEMARK_CLICKHOUSE_DATABASE": settings.clickhouse_database,
        "TIDEMARK_CLICKHOUSE_SECURE": str(settings.clickhouse_secure).lower(),
    }


def _snowflake_env(settings: Settings) -> dict[str, str]:
    args = settings.snowflake_connect_args()
    return {f"TIDEMARK_SNOWFLAKE_{name.upper()}": str(value) for name, value in args.items()}


@contextmanager
def dbt_environment(settings: Settings) -> Iterator[None]:
    """`settings`' dbt variables in `os.environ` for an in-process dbt run, then as before.

    In-process dbt reads `env_var()` from `os.environ`; leaving them set would make every later
    `Settings()` in the process (they share the TIDEMARK_* names) point at this warehouse.
    """
    settings.duckdb_file.parent.mkdir(parents=True, exist_ok=True)
    wanted = dbt_env(settings)
    before = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


PUBLISHED_ARTIFACTS = ("manifest.json", "run_results.json", "partial_parse.msgpack")


@contextmanager
def _published_artifacts(settings: Settings, command: list[str]) -> Iterator[Path | None]:
    """Let dbt write into a private target folder, then move its artifacts into place whole.

    dbt writes `manifest.json` in place, so a process reading it (the API, the engine, another
    build) while a parse or build rewrites it would read half a file. A rename is atomic: readers
    see the old manifest or the new one. A command that names its own --target-path keeps it.
    """
    if "--target-path" in command:
        yield None
        return
    shared = target_path(settings)
    private = shared / f".run-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    private.mkdir(parents=True)
    partial_parse = shared / "partial_parse.msgpack"
    if partial_parse.exists():
        shutil.copy2(partial_parse, private / partial_parse.name)
    try:
        yield private
        for name in PUBLISHED_ARTIFACTS:
            if (private / name).exists():
                (private / name).replace(shared / name)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def target_path(settings: Settings) -> Path:
    return settings.dbt_project_dir / "target"


def manifest_path(settings: Settings) -> Path:
    return target_path(settings) / "manifest.json"


PROJECT_FILE_SUFFIXES = (".sql", ".yml", ".yaml", ".md", ".csv")
GENERATED_FOLDERS = ("target", "logs", "dbt_packages")


def manifest_is_stale(settings: Settings) -> bool:
    """True when there is no manifest or a project file changed after it was written.

    A data engineer who adds a segment model expects to see it without remembering to run
    `dbt parse`; comparing modification times costs a directory walk, not a parse.
    """
    path = manifest_path(settings)
    if not path.exists():
        return True
    written = path.stat().st_mtime
    root = settings.dbt_project_dir
    for file in root.rglob("*"):
        relative = file.relative_to(root).parts
        if relative[0] in GENERATED_FOLDERS or file.suffix not in PROJECT_FILE_SUFFIXES:
            continue
        if file.stat().st_mtime > written:
            return True
    return False


def ensure_manifest(settings: Settings) -> Path:
    """Parse the project when its manifest is missing or older than its files."""
    if manifest_is_stale(settings):
        result = run_dbt(settings, ["parse", "--quiet"])
        if not result.success:
            raise RuntimeError(f"dbt could not parse {settings.dbt_project_dir}: {result.error}")
    return manifest_path(settings)


def load_manifest(settings: Settings) -> dict[str, Any]:
    """The manifest of the project as it is now (parsed again if files changed)."""
    manifest: dict[str, Any] = json.loads(ensure_manifest(settings).read_text())
    return manifest


def base_args(settings: Settings) -> list[str]:
    return [
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
        "--target",
        settings.effective_dbt_target,
    ]


def _node_result(event: Any) -> NodeResult | None:
    data = event.data
    info = data.node_info
    if not info.unique_id:
        return None
    started, finished = info.node_started_at, info.node_finished_at
    seconds = 0.0
    if started and finished:
        seconds = (
            datetime.fromisoformat(finished) - datetime.fromisoformat(started)
        ).total_seconds()
    resource_type = info.resource_type or info.unique_id.split(".", 1)[0]
    return NodeResult(
        unique_id=info.unique_id,
        resource_type=resource_type,
        status=info.node_status,
        seconds=seconds,
        message=getattr(data.run_result, "message", None) or None,
    )


def run_dbt(
    settings: Settings,
    command: list[str],
    *,
    progress: BuildProgress | None = None,
    extra_vars: dict[str, Any] | None = None,
) -> BuildResult:
    """Run a dbt command in-process against the configured target.

    `command` is the dbt subcommand and its own flags (e.g. `["build", "--select", "x"]`).
    """
    from dbt.cli.main import dbtRunner

    progress = progress or BuildProgress()
    nodes: list[NodeResult] = []

    def on_event(event: Any) -> None:
        name = event.info.name
        if name == "ConcurrencyLine":
            progress.on_start(int(event.data.node_count))
        elif name == "NodeFinished":
            node = _node_result(event)
            if node is not None:
                nodes.append(node)
                progress.on_node(node)

    args = [*command, *base_args(settings)]
    if extra_vars:
        args += ["--vars", json.dumps(extra_vars)]
    started = time.perf_counter()
    with dbt_environment(settings), _published_artifacts(settings, command) as private_target:
        if private_target is not None:
            args += ["--target-path", str(private_target)]
        outcome = dbtRunner(callbacks=[on_event]).invoke(args)
    error = str(outcome.exception) if outcome.exception else None
    return BuildResult(
        success=bool(outcome.success),
        nodes=nodes,
        seconds=time.perf_counter() - started,
        error=error,
    )
