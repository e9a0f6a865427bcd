"""Every dashboard page, gathered into one router for `dashboards.install`."""

from __future__ import annotations

from fastapi import APIRouter

from dashboards.routes import (
    activations,
    approvals,
    audit,
    deliverability,
    experiments,
    overview,
    runs,
    segments,
    session,
)

router = APIRouter(include_in_schema=False)
for page in (
    session,
    overview,
    segments,
    activations,
    runs,
    experiments,
    deliverability,
    approvals,
    audit,
):
    router.include_router(page.router)
