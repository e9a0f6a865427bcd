"""One asset per activation declared in dbt: segment model → activation, counts as metadata."""

import dagster as dg
from pydantic import Field

from activation.definition import ActivationDefinition, from_dbt_exposures
from connectors.dbt_project import load_manifest
from connectors.ops_store.outbox import PARTITIONS
from connectors.settings import get_settings
from dagster_project.defs.activation.runs import fail_on, report_metadata, run_activation
from dagster_project.resources import WAREHOUSE_WRITERS_POOL, TidemarkResource


class ActivationRunConfig(dg.Config):
    """Optional: a dry run, an explicit run id (the request id when the API asked), and how
    many delivery worker processes share the outbox (they share the destination's rate)."""

    dry_run: bool = False
    run_id: str | None = None
    workers: int = Field(default=1, ge=1, le=PARTITIONS)


def activation_asset_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["activations", name])


def build_activation_asset(definition: ActivationDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=activation_asset_key(definition.name),
        deps=[dg.AssetKey(["analytics", f"segment_{definition.segment}"])],
        group_name="activations",
        description=definition.description
        or f"Sends {definition.segment} members "
        f"to {definition.destination} ({definition.channel.value}).",
        kinds={definition.channel.value},
        owners=[definition.owner] if definition.owner else None,
        pool=WAREHOUSE_WRITERS_POOL,
    )
    def _activation(
        context: dg.AssetExecutionContext, config: ActivationRunConfig, tidemark: TidemarkResource
    ) -> dg.MaterializeResult[None]:
        report = run_activation(
            tidemark.activation_engine(),
            definition.name,
            run_id=config.run_id,
            dry_run=config.dry_run,
            requested_by=f"dagster:{context.run_id}",
            workers=config.workers,
        )
        fail_on(report)
        return dg.MaterializeResult(metadata=report_metadata(report))

    return _activation


def declared_activations() -> list[ActivationDefinition]:
    return from_dbt_exposures(load_manifest(get_settings()))


@dg.definitions
def activation_assets() -> dg.Definitions:
    activations = declared_activations()
    assets = [build_activation_asset(a) for a in activations]
    schedules = [
        dg.ScheduleDefinition(
            name=f"{a.name}_schedule",
            target=dg.AssetSelection.assets(activation_asset_key(a.name)),
            cron_schedule=a.schedule,
            execution_timezone="UTC",
        )
        for a in activations
        if a.schedule != "once"
    ]
    return dg.Definitions(assets=assets, schedules=schedules)
