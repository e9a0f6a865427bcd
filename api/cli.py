"""The `tidemark` command: set up a demo, build the models, see where things stand."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from api.cli_import import import_app
from api.console_steps import (
    StepFailedError,
    Timings,
    build_step,
    generate_demo_step,
    load_step,
    overview,
    print_summary,
)
from api.demo_mail_sink import DemoMailSink
from connectors.landing import open_landing_zone
from connectors.loader import pending_files
from connectors.settings import REPO_ROOT, DestinationEntry, Settings, get_settings
from connectors.warehouse.duckdb import WarehouseBusyError
from connectors.warehouse.factory import open_warehouse
from connectors.warehouse.raw_tables import LOADED_FILES_TABLE

app = typer.Typer(
    help="Tidemark: your warehouse as your lifecycle marketing engine.",
    no_args_is_help=True,
    add_completion=False,
)

#: Columns for tables written to a pipe or a log, where there is no terminal to measure.
PIPED_WIDTH = 160


def _console() -> Console:
    """Rich's console. Output to a pipe or a log (`| tee`, CI) has no terminal width, and rich
    would fold every table to 80 columns: it gets 160, unless COLUMNS says otherwise."""
    if sys.stdout.isatty() or "COLUMNS" in os.environ:
        return Console()
    return Console(width=PIPED_WIDTH)


console = _console()
activation_app = typer.Typer(help="Run, dry-run, list and approve activations.")
app.add_typer(activation_app, name="activation")
app.add_typer(import_app, name="import")
token_app = typer.Typer(help="Create, list and revoke API tokens.")
app.add_typer(token_app, name="token")

DAGSTER_PORT = 3000
API_PORT = 8000
DEMO_ACTIVATION = "welcome_new_subscribers"
DEMO_DESTINATION = "demo_smtp"


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/] {message}")
    return typer.Exit(code=1)


def _has_loaded_data(settings: Settings) -> bool:
    warehouse = open_warehouse(settings)
    if not warehouse.table_exists("raw", "_loaded_files"):
        return False
    return bool(warehouse.scalar(f"select count(*) from {LOADED_FILES_TABLE}"))


def _start_fresh(settings: Settings) -> None:
    """Remove the demo's warehouse file and local landing zone (never an S3 bucket)."""
    if settings.landing_location.startswith("s3://"):
        raise _fail("--fresh only clears a local landing zone; empty the S3 prefix yourself")
    for path in (settings.duckdb_file, settings.duckdb_file.with_suffix(".duckdb.wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(settings.landing_location, ignore_errors=True)


def _dagster_home(settings: Settings) -> Path:
    home = settings.home / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO_ROOT / "dagster_project" / "dagster.yaml", home / "dagster.yaml")
    return home


def _serve(settings: Settings) -> None:
    """Run the Dagster UI and the API/dashboards until Ctrl-C."""
    env = {**os.environ, "DAGSTER_HOME": str(_dagster_home(settings))}
    env["TIDEMARK_HOME"] = str(settings.home)
    env["TIDEMARK_DESTINATIONS"] = json.dumps(
        {name: entry.model_dump() for name, entry in settings.destinations.items()}
    )
    dagster = [
        sys.executable, "-m", "dagster", "dev",
        "-w", str(REPO_ROOT / "workspace.yaml"),
        "-h", "127.0.0.1", "-p", str(DAGSTER_PORT),
    ]  # fmt: skip
    api = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(API_PORT)]
    release_warehouse_file()
    _print_first_token(settings)
    console.print(
        f"\nDashboards and API on [bold]http://127.0.0.1:{API_PORT}[/] · "
        f"Dagster UI on [bold]http://127.0.0.1:{DAGSTER_PORT}[/] — press Ctrl-C to stop."
    )
    processes = [subprocess.Popen(command, cwd=REPO_ROOT, env=env) for command in (api, dagster)]
    try:
        processes[-1].wait()
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            process.wait(timeout=30)


def release_warehouse_file() -> None:
    """Close the DuckDB file dbt-duckdb keeps open in this process after the build step.

    While this process serves, the API and Dagster (other processes) must be able to open
    the warehouse; DuckDB admits no other process while one holds the file.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()  # type: ignore[no-untyped-call]


def _print_first_token(settings: Settings) -> None:
    from activation.from_settings import ops_sessions
    from connectors.ops_store.engine import write_transaction
    from connectors.ops_store.tokens import create_token

    with write_transaction(ops_sessions(settings)) as session:
        issued = create_token(session, name="demo admin", role="admin")
        plaintext = issued.plaintext
    console.print(
        f"\nAdmin token for the dashboards and API (shown once): [bold]{plaintext}[/]\n"
        "  more: uv run tidemark token create --role viewer|marketer|admin --name NAME"
    )


@app.command()
def demo(
    profiles: Annotated[
        int | None,
        typer.Option(envvar="DEMO_PROFILES", help="How many demo profiles to generate."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the demo data generator.")] = None,
    serve: Annotated[
        bool, typer.Option(help="Serve the Dagster UI after the summary, until Ctrl-C.")
    ] = True,
    fresh: Annotated[
        bool, typer.Option(help="Delete the demo warehouse and landing files first.")
    ] = False,
) -> None:
    """Generate demo data, load it, build every model, print a summary (and serve the UI)."""
    overrides: dict[str, int] = {}
    if profiles is not None:
        overrides["demo_profiles"] = profiles
    if seed is not None:
        overrides["demo_seed"] = seed
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if fresh:
        _start_fresh(settings)
    timings = Timings()
    try:
        if _has_loaded_data(settings) or open_landing_zone(settings).list():
            console.print(
                f"Demo data already in {settings.home} — loading anything new and rebuilding "
                "(use --fresh to start over)."
            )
        else:
            generate_demo_step(settings, console, timings)
        load_step(settings, console, timings)
        build_step(settings, console, timings)
        print_summary(console, overview(settings), timings)
    except (StepFailedError, WarehouseBusyError) as error:
        raise _fail(str(error)) from error
    console.print(f"Warehouse: {settings.duckdb_file} (open it with any DuckDB client)")
    sink = DemoMailSink(settings.home / "demo_mail").start()
    try:
        settings = settings.model_copy(
            update={
                "destinations": {
                    **settings.destinations,
                    DEMO_DESTINATION: DestinationEntry(**sink.destination_config()),
                }
            }
        )
        try:
            _run_demo_activation(settings, sink)
        except (StepFailedError, WarehouseBusyError) as error:
            raise _fail(str(error)) from error
        if serve:
            _serve(settings)
    finally:
        sink.stop()


def _run_demo_activation(settings: Settings, sink: DemoMailSink) -> None:
    from activation.from_settings import engine_from_settings
    from api.activation_report import print_run

    console.print(f"\nDemo activation {DEMO_ACTIVATION!r} → SMTP sink on 127.0.0.1:{sink.port}")
    engine = engine_from_settings(settings)
    report = engine.run(DEMO_ACTIVATION, requested_by="demo")
    print_run(console, report)
    console.print(
        f"  the demo mailbox holds {sink.mailbox_size():,} messages: {sink.folder} (a Maildir)"
    )
    definition, _segment = engine.definition(DEMO_ACTIVATION)
    # Imported here: it pulls in the dashboards and the API state, which no other command needs.
    from api.demo_experiment import demo_experiment_step

    demo_experiment_step(settings, console, definition)


@app.command()
def build(
    select: Annotated[
        str | None, typer.Option(help="dbt selection, e.g. 'segments' or '+profiles'.")
    ] = None,
) -> None:
    """Load new landing files into raw, then build the dbt models."""
    settings = get_settings()
    timings = Timings()
    try:
        load_step(settings, console, timings)
        build_step(settings, console, timings, select=select)
        print_summary(console, overview(settings), timings)
    except (StepFailedError, WarehouseBusyError) as error:
        raise _fail(str(error)) from error


@app.command()
def status() -> None:
    """Where the data lives, what is waiting to be loaded, and the segments' sizes."""
    settings = get_settings()
    landing = open_landing_zone(settings)
    warehouse = open_warehouse(settings)
    console.print(f"Warehouse:    {warehouse.describe()}")
    console.print(f"Landing zone: {landing.describe()}")
    try:
        waiting = pending_files(landing, warehouse)
        console.print(f"Waiting to load: {len(waiting)} files")
        for quarantined in landing.quarantined():
            console.print(f"[yellow]quarantined[/] {quarantined.key}: {quarantined.reason}")
        print_summary(console, overview(settings))
    except WarehouseBusyError as error:
        raise _fail(str(error)) from error


@activation_app.command("list")
def activation_list() -> None:
    """Activations declared in dbt and created through the API."""
    from activation.catalog import list_activations
    from activation.from_settings import ops_sessions
    from api.activation_report import print_activations
    from connectors.dbt_project import load_manifest

    settings = get_settings()
    with ops_sessions(settings)() as session:
        print_activations(console, list_activations(load_manifest(settings), session))


@activation_app.command("run")
def activation_run(
    name: Annotated[str, typer.Argument(help="The activation's name.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Plan and show, send nothing.")
    ] = False,
    requested_by: Annotated[str, typer.Option(help="Who asked, for the run record.")] = "cli",
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Delivery worker processes, each sending a share of the outbox; they share "
            "the destination's rate limit.",
        ),
    ] = 1,
) -> None:
    """Run an activation now (or resume its unfinished run)."""
    from activation.engine import ActivationRunError
    from activation.from_settings import engine_from_settings
    from api.activation_report import print_run
    from connectors.destinations.base import DestinationError

    engine = engine_from_settings(get_settings())
    try:
        if dry_run:
            report = engine.dry_run(name, requested_by=requested_by)
        else:
            report = engine.run(name, requested_by=requested_by, workers=workers)
    except (ActivationRunError, DestinationError, LookupError, ValueError) as error:
        raise _fail(str(error)) from error
    print_run(console, report)
    if report.status == "failed":
        raise typer.Exit(code=1)


@activation_app.command("approve")
def activation_approve(
    run_id: Annotated[str, typer.Argument(help="The held run's id.")],
    actor: Annotated[str, typer.Option(help="Who approves, for the audit log.")] = "cli",
) -> None:
    """Release a run held by its size limit or an anomaly."""
    from activation.engine import ActivationRunError
    from activation.from_settings import engine_from_settings
    from api.activation_report import print_run

    try:
        report = engine_from_settings(get_settings()).approve(run_id, actor=actor)
    except ActivationRunError as error:
        raise _fail(str(error)) from error
    print_run(console, report)


@activation_app.command("deliver-due")
def activation_deliver_due() -> None:
    """Deliver the messages of deferred runs whose send time has come (quiet hours ended).

    What Dagster's deferred-deliveries sensor does, for installs without Dagster: run it
    from cron every few minutes. Each run is delivered under its activation's lock, so a
    concurrent run or pass is never doubled; what is not due yet is left waiting.
    """
    from activation.engine import ActivationRunError
    from activation.from_settings import engine_from_settings
    from api.activation_report import print_due_deliveries
    from connectors.destinations.base import DestinationError

    engine = engine_from_settings(get_settings())
    try:
        waiting = engine.deferred()
        due = engine.due()
        reports = [engine.deliver_due(run.run_id) for run in due]
    except (ActivationRunError, DestinationError, LookupError, ValueError) as error:
        raise _fail(str(error)) from error
    print_due_deliveries(console, reports, engine.deferred(), checked=len(waiting))
    if any(report.status == "failed" for report in reports):
        raise typer.Exit(code=1)


@activation_app.command("reconcile")
def activation_reconcile() -> None:
    """Settle in-doubt messages from provider feedback (delivered, bounced, dropped...)."""
    from activation.from_settings import ops_sessions
    from activation.reconcile import reconcile_from_feedback

    settings = get_settings()
    settled = reconcile_from_feedback(ops_sessions(settings), open_warehouse(settings))
    console.print(f"settled from feedback: {settled['sent']:,} sent, {settled['failed']:,} failed")


@activation_app.command("resolve")
def activation_resolve(
    run_id: Annotated[str, typer.Argument(help="The run whose in-doubt messages to settle.")],
    decision: Annotated[
        str, typer.Option(help="sent (leave them), failed (give up) or resend (send again).")
    ],
    actor: Annotated[str, typer.Option(help="Who decides, for the audit log.")] = "cli",
) -> None:
    """Settle a run's in-doubt messages by an operator's decision."""
    from activation.from_settings import ops_sessions
    from activation.mirror import mirror_run
    from activation.reconcile import Decision, resolve_in_doubt
    from connectors.ops_store.delivery_models import ActivationRun, RunStatus

    try:
        chosen = Decision(decision)
    except ValueError:
        raise _fail("--decision must be one of: sent, failed, resend") from None
    settings = get_settings()
    sessions = ops_sessions(settings)
    count = resolve_in_doubt(sessions, run_id, chosen, actor=actor)
    console.print(f"{count:,} in-doubt messages of run {run_id} marked {chosen.value}")
    with sessions() as session:
        run = session.get(ActivationRun, run_id)
    if run is None:
        return
    if run.status is RunStatus.DEFERRED and chosen is Decision.RESEND:
        console.print(
            f"run {run_id} is deferred until the next delivery pass sends them "
            "(Dagster's sensor, or `tidemark activation deliver-due`)"
        )
    try:
        mirror_run(sessions, open_warehouse(settings), run_id)
    except WarehouseBusyError:
        console.print(
            "[yellow]the warehouse is busy:[/] run this again later to update its copy of the "
            "run in tidemark.activation_runs"
        )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = API_PORT,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
) -> None:
    """Serve the JSON API and the dashboards over the configured warehouse, until Ctrl-C."""
    from api.serve import serve as run_server

    run_server(get_settings(), host=host, port=port, workers=workers)


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="viewer, marketer or admin.")],
    name: Annotated[str, typer.Option(help="Who or what holds it (shown in audit entries).")],
) -> None:
    """Create an API token and print it (once: only its hash is kept)."""
    from activation.from_settings import ops_sessions
    from connectors.ops_store.audit import record_audit
    from connectors.ops_store.engine import write_transaction
    from connectors.ops_store.tokens import create_token

    try:
        with write_transaction(ops_sessions(get_settings())) as session:
            issued = create_token(session, name=name, role=role)
            record_audit(
                session,
                actor="cli",
                action="token.create",
                resource_type="api_token",
                resource_id=str(issued.token.id),
                before=None,
                after={"id": issued.token.id, "name": name, "role": str(issued.token.role)},
            )
            token_id, plaintext = issued.token.id, issued.plaintext
    except ValueError as error:
        raise _fail(str(error)) from error
    console.print(f"token {token_id} ({role}, {name!r}) — store it now, it is not shown again:")
    print(plaintext)


@token_app.command("list")
def token_list() -> None:
    """Tokens, their roles and when they were last used (never the tokens themselves)."""
    from rich.table import Table

    from activation.from_settings import ops_sessions
    from connectors.ops_store.tokens import list_tokens

    table = Table(title="API tokens", title_justify="left")
    for column in ("id", "name", "role", "created", "last used", "revoked"):
        table.add_column(column)
    with ops_sessions(get_settings())() as session:
        for token in list_tokens(session):
            table.add_row(
                str(token.id),
                token.name,
                str(token.role),
                f"{token.created_at:%Y-%m-%d %H:%M}",
                f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never",
                f"{token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "",
            )
    console.print(table)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id.")]) -> None:
    """Revoke a token for good."""
    from activation.from_settings import ops_sessions
    from connectors.ops_store.audit import record_audit
    from connectors.ops_store.engine import write_transaction
    from connectors.ops_store.tokens import TokenNotFoundError, revoke_token

    try:
        with write_transaction(ops_sessions(get_settings())) as session:
            token = revoke_token(session, token_id)
            record_audit(
                session,
                actor="cli",
                action="token.revoke",
                resource_type="api_token",
                resource_id=str(token_id),
                before=None,
                after={"id": token_id, "name": token.name, "revoked": True},
            )
    except TokenNotFoundError as error:
        raise _fail(str(error)) from error
    console.print(f"token {token_id} revoked")


if __name__ == "__main__":
    app()
