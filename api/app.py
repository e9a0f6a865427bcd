"""The FastAPI app: the JSON API under /api/v1 and the dashboards, over one `AppState`."""

from __future__ import annotations

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.routes import (
    activations,
    audit,
    data_subjects,
    experiments,
    health,
    imports,
    ingest,
    overview,
    runs,
    segments,
    tokens,
    unsubscribe,
    webhooks,
)
from api.state import AppState
from connectors.settings import Settings, get_settings
from dashboards import install as install_dashboards


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for `settings` (from the environment when None)."""
    state = AppState.from_settings(settings or get_settings())
    app = FastAPI(
        title="Tidemark",
        summary="Warehouse-native lifecycle marketing: segments, activations, experiments.",
        version="0.1.0",
    )
    app.state.tidemark = state
    app.include_router(health.router)
    app.include_router(ingest.router)
    app.include_router(imports.router)
    app.include_router(webhooks.router)
    app.include_router(unsubscribe.router)
    app.include_router(data_subjects.router)
    install_error_handlers(app)
    for resource in (overview, segments, activations, runs, experiments, tokens, audit):
        app.include_router(resource.router)
    install_dashboards(app)
    return app
