"""What the intake tests share: an app over a temporary home, and tokens for each role."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from connectors.landing import LocalLandingZone
from connectors.ops_store import create_ops_engine, create_schema, ops_sessionmaker
from connectors.ops_store.tokens import create_token
from connectors.settings import Settings


@dataclass
class IntakeApp:
    """An app over `settings`, a client for it, and a bearer header per role."""

    settings: Settings
    app: FastAPI
    client: TestClient
    headers: dict[str, dict[str, str]]

    @property
    def landing(self) -> LocalLandingZone:
        return LocalLandingZone(self.settings.landing_location)

    @property
    def sessions(self) -> Any:
        return self.app.state.tidemark.sessions


def intake_app(home: Path, **overrides: Any) -> IntakeApp:
    settings = Settings(home=home, **overrides)
    engine = create_ops_engine(settings.ops_store_dsn)
    create_schema(engine)
    headers = {}
    with ops_sessionmaker(engine).begin() as session:
        for role in ("viewer", "marketer", "admin"):
            issued = create_token(session, name=f"test-{role}", role=role)
            headers[role] = {"Authorization": f"Bearer {issued.plaintext}"}
    engine.dispose()
    app = create_app(settings)
    return IntakeApp(settings, app, TestClient(app), headers)
