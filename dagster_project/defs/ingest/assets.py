"""The `raw.*` tables, materialized by loading landing files; GE results as asset checks."""

from collections.abc import Iterator

import dagster as dg

from connectors.loader import LoadReport, load_landing_files
from connectors.raw_schemas import DATASETS
from dagster_project.resources import WAREHOUSE_WRITERS_POOL, TidemarkResource

LANDING_CHECK = "landing_batches_valid"


def raw_asset_key(dataset: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", dataset])


class LoadLandingConfig(dg.Config):
    """Which files to load; all pending files when `keys` is empty."""

    keys: list[str] = []


def check_result(dataset: str, report: LoadReport) -> dg.AssetCheckResult:
    """Great Expectations verdicts of this run's batches: a quarantined file fails the check.

    The severity is a warning, not an error: a bad file is set aside and never blocks the
    good ones, but somebody should look at it.
    """
    quarantined = report.with_status("quarantined")
    return dg.AssetCheckResult(
        asset_key=raw_asset_key(dataset),
        check_name=LANDING_CHECK,
        passed=not quarantined,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "files_validated": len(report.outcomes),
            "files_quarantined": len(quarantined),
            "reasons": dg.MetadataValue.json(
                {o.key: o.reason for o in quarantined} if quarantined else {}
            ),
        },
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            raw_asset_key(ds.name),
            description=f"`raw.{ds.name}`: {ds.description}",
            group_name="raw",
            kinds={"duckdb"},
        )
        for ds in DATASETS.values()
    ],
    check_specs=[
        dg.AssetCheckSpec(
            LANDING_CHECK,
            asset=raw_asset_key(ds.name),
            description="Each landing batch passed its Great Expectations suite.",
        )
        for ds in DATASETS.values()
    ],
    pool=WAREHOUSE_WRITERS_POOL,
)
def raw_landing_tables(
    context: dg.AssetExecutionContext, config: LoadLandingConfig, tidemark: TidemarkResource
) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
    """Load pending landing files into `raw`, exactly once each."""
    report = load_landing_files(tidemark.landing(), tidemark.warehouse(), keys=config.keys or None)
    context.log.info(
        "loaded %d files, skipped %d already loaded, quarantined %d in %.1fs",
        len(report.with_status("loaded")),
        len(report.with_status("already_loaded")),
        len(report.with_status("quarantined")),
        report.seconds,
    )
    for dataset in DATASETS:
        part = report.for_dataset(dataset)
        # Every raw table is reported, even one no file arrived for (0 files): Dagster skips
        # whatever lies downstream of an output left out, which would skip the whole dbt build
        # in a job that also loads whenever a source (Shopify, say) sent nothing.
        yield dg.MaterializeResult(
            asset_key=raw_asset_key(dataset),
            metadata={
                "files_loaded": len(part.with_status("loaded")),
                "rows_loaded": part.rows_by_dataset().get(dataset, 0),
                "files_quarantined": len(part.with_status("quarantined")),
            },
        )
        yield check_result(dataset, part)


load_landing_job = dg.define_asset_job(
    name="load_landing",
    selection=dg.AssetSelection.assets(raw_landing_tables),
    description="Load landing files into raw tables (launched by the landing sensor).",
)
