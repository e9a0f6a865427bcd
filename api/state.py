"""What every request handler needs, built once per app from settings."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from activation.engine import ActivationEngine
from activation.from_settings import engine_from_settings, ops_sessions
from api.reads.freshness import WarehouseReads
from api.reads.ledger_counts import LedgerCounts
from connectors.dbt_project import ensure_manifest, manifest_path
from connectors.settings import Settings
from connectors.warehouse.base import Warehouse
from connectors.warehouse.factory import open_warehouse

log = logging.getLogger(__name__)

MANIFEST_CHECK_S = 5.0
"""How often requests look for dbt project changes (a directory walk) before re-reading."""


class ManifestUnavailableError(RuntimeError):
    """The dbt project does not parse and no earlier manifest exists to fall back on."""


@dataclass
class AppState:
    """The app's long-lived parts: settings, the ops store, the warehouse, the engine, and
    the read side (`reads`: short lock waits, last good results during builds;
    `ledger_counts`: runs' message counts, reused for a second).

    One instance lives on `app.state.tidemark`; handlers reach it through `app_state`.
    """

    settings: Settings
    sessions: sessionmaker[Session]
    warehouse: Warehouse
    engine: ActivationEngine
    reads: WarehouseReads
    ledger_counts: LedgerCounts = field(default_factory=LedgerCounts)
    _manifest: dict[str, Any] | None = field(default=None, init=False, repr=False)
    _manifest_stamp: tuple[int, int] | None = field(default=None, init=False, repr=False)
    _manifest_checked_at: float = field(default=0.0, init=False, repr=False)
    _manifest_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> AppState:
        return cls(
            settings=settings,
            sessions=ops_sessions(settings),
            # Read-only, like `reads`: the API never writes the warehouse, and DuckDB refuses
            # one process connections to a file with different read_only settings.
            warehouse=open_warehouse(settings, read_only=True),
            engine=engine_from_settings(settings),
            reads=WarehouseReads.from_settings(settings),
        )

    @property
    def ops_engine(self) -> Engine:
        """The engine under `sessions`, for hot paths that skip the ORM (the token check)."""
        bind = self.sessions.kw.get("bind")
        if not isinstance(bind, Engine):
            raise TypeError("AppState.sessions must be bound to an Engine")
        return bind

    def manifest(self) -> dict[str, Any]:
        """The dbt manifest (re-parsed when the project changed since the last parse).

        Kept parsed between requests: the project is checked for changes at most every
        `MANIFEST_CHECK_S` and the file re-read only when it changed, so a read endpoint
        does not pay a directory walk and a megabytes-long JSON parse every time. When the
        project no longer parses (an edit in progress), the last parsed manifest serves.
        Callers share the returned document and must not change it.
        """
        with self._manifest_lock:
            now = time.monotonic()
            if self._manifest is not None and now - self._manifest_checked_at < MANIFEST_CHECK_S:
                return self._manifest
            try:
                path = ensure_manifest(self.settings)
            except RuntimeError as error:
                # A project mid-edit must not take the API down: keep the last parse.
                path = manifest_path(self.settings)
                if not path.exists():
                    raise ManifestUnavailableError(str(error)) from error
                log.warning("serving the last parsed dbt manifest: %s", error)
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if self._manifest is None or stamp != self._manifest_stamp:
                self._manifest = json.loads(path.read_text())
                self._manifest_stamp = stamp
            self._manifest_checked_at = now
            return self._manifest


async def app_state(request: Request) -> AppState:
    """FastAPI dependency: the app's `AppState`.

    `async` although it awaits nothing: FastAPI runs a plain `def` dependency in its thread
    pool, a thread hop per request for an attribute read.
    """
    state: AppState = request.app.state.tidemark
    return state


State = Annotated[AppState, Depends(app_state)]
"""Handler parameter type for the app's state: `def handler(state: State): ...`."""
