"""What every request handler needs, built once per app from settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from activation.engine import ActivationEngine
from activation.from_settings import engine_from_settings, ops_sessions
from api.reads.freshness import WarehouseReads
from connectors.dbt_project import load_manifest
from connectors.settings import Settings
from connectors.warehouse.base import Warehouse
from connectors.warehouse.factory import open_warehouse


@dataclass
class AppState:
    """The app's long-lived parts: settings, the ops store, the warehouse, the engine, and
    the read side (`reads`: short lock waits, last good results during builds).

    One instance lives on `app.state.tidemark`; handlers reach it through `app_state`.
    """

    settings: Settings
    sessions: sessionmaker[Session]
    warehouse: Warehouse
    engine: ActivationEngine
    reads: WarehouseReads

    @classmethod
    def from_settings(cls, settings: Settings) -> AppState:
        return cls(
            settings=settings,
            sessions=ops_sessions(settings),
            warehouse=open_warehouse(settings),
            engine=engine_from_settings(settings),
            reads=WarehouseReads.from_settings(settings),
        )

    def manifest(self) -> dict[str, Any]:
        """The dbt manifest (re-parsed when the project changed since the last parse)."""
        return load_manifest(self.settings)


def app_state(request: Request) -> AppState:
    """FastAPI dependency: the app's `AppState`."""
    state: AppState = request.app.state.tidemark
    return state


State = Annotated[AppState, Depends(app_state)]
"""Handler parameter type for the app's state: `def handler(state: State): ...`."""
