"""`tidemark import profiles|events FILE.csv`: import a customer's CSV into the landing zone.

The checked rows land as Parquet batches; the landing sensor (or `tidemark build`) loads them
into `raw`. Refused rows are written next to the file as `<name>.quarantine.csv`, with the
row number, the columns and the reasons, so they can be fixed and imported again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from connectors.landing import open_landing_zone
from connectors.settings import get_settings

if TYPE_CHECKING:
    from connectors.imports import ImportSummary

import_app = typer.Typer(help="Import a CSV file of profiles or events.", no_args_is_help=True)
console = Console(soft_wrap=True)  # paths and messages stay whole, to copy and to grep

FileArgument = Annotated[
    Path,
    typer.Argument(exists=True, dir_okay=False, readable=True, help="The CSV file to import."),
]
QuarantineOption = Annotated[
    Path | None,
    typer.Option(help="Where refused rows go; defaults to <file>.quarantine.csv beside it."),
]
EncodingOption = Annotated[
    str | None, typer.Option(help="The file's encoding; detected (UTF-8, BOM, Latin-1) if unset.")
]
DelimiterOption = Annotated[
    str | None, typer.Option(help="Field delimiter; detected (, ; tab |) from the header if unset.")
]


def default_quarantine_path(source: Path) -> Path:
    return source.with_name(f"{source.stem}.quarantine.csv")


def _run(
    kind: str, file: Path, quarantine: Path | None, encoding: str | None, delimiter: str | None
) -> None:
    # Imported when a file is imported, not when any `tidemark` command starts: the checks
    # pull in polars, pyarrow, email-validator and phonenumbers (~1.8 s).
    from connectors.imports import CsvFormatError, HeaderMismatchError, import_csv

    settings = get_settings()
    target = quarantine or default_quarantine_path(file)
    try:
        with console.status(f"Importing {file.name} …"):
            summary = import_csv(
                kind,
                file,
                open_landing_zone(settings),
                quarantine_path=target,
                encoding=encoding,
                delimiter=delimiter,
            )
    except (HeaderMismatchError, CsvFormatError, LookupError) as error:
        console.print(f"[red]error:[/] {error}")
        raise typer.Exit(code=1) from None
    _print_summary(summary)
    if summary.rows_quarantined:
        raise typer.Exit(code=2)


def _print_summary(summary: ImportSummary) -> None:
    console.print(
        f"Read {summary.rows_read:,} rows ({summary.file_format}) in {summary.seconds:.1f}s: "
        f"[green]{summary.rows_landed:,} landed[/], "
        f"[{'red' if summary.rows_quarantined else 'green'}]"
        f"{summary.rows_quarantined:,} quarantined[/]."
    )
    for dataset, rows in sorted(summary.rows_by_dataset.items()):
        console.print(f"  {dataset}: {rows:,} rows in the landing zone (loaded by the next build)")
    if summary.problems_by_column:
        table = Table("column", "rows with a problem", title="Quarantined rows by column")
        for column, count in summary.problems_by_column.most_common():
            table.add_row(column, f"{count:,}")
        console.print(table)
        console.print(f"Refused rows, with row numbers and reasons: {summary.quarantine_path}")


@import_app.command("profiles")
def import_profiles(
    file: FileArgument,
    quarantine: QuarantineOption = None,
    encoding: EncodingOption = None,
    delimiter: DelimiterOption = None,
) -> None:
    """Import profiles (profile_id, email, phone, names, country, time_zone, consent…)."""
    _run("profiles", file, quarantine, encoding, delimiter)


@import_app.command("events")
def import_events(
    file: FileArgument,
    quarantine: QuarantineOption = None,
    encoding: EncodingOption = None,
    delimiter: DelimiterOption = None,
) -> None:
    """Import events (event_id, profile_id, event_type, occurred_at, order and product ids…)."""
    _run("events", file, quarantine, encoding, delimiter)
