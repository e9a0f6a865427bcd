"""`GET /health`: liveness for load balancers and `tidemark serve` callers; no auth."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
