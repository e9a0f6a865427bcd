"""Build the activation engine from settings: the one wiring the CLI, API and Dagster share."""

from __future__ import annotations

from functools import partial

from sqlalchemy.orm import Session, sessionmaker

from activation.delivery_shares import SubprocessShareLauncher
from activation.destinations import destination_for
from activation.engine import ActivationEngine
from activation.message_renderer import renderer_for
from connectors.dbt_project import load_manifest
from connectors.ops_store import create_ops_engine, create_schema, ops_sessionmaker
from connectors.settings import Settings
from connectors.warehouse.factory import open_warehouse


def ops_sessions(settings: Settings) -> sessionmaker[Session]:
    """Sessions on the ops store, its schema created if missing."""
    engine = create_ops_engine(settings.ops_store_dsn)
    create_schema(engine)
    return ops_sessionmaker(engine)


def engine_from_settings(settings: Settings) -> ActivationEngine:
    return ActivationEngine(
        warehouse=open_warehouse(settings),
        sessions=ops_sessions(settings),
        manifest=partial(load_manifest, settings),
        destination_for=partial(destination_for, settings),
        renderer_for=partial(renderer_for, settings),
        share_launcher=SubprocessShareLauncher(),
    )
