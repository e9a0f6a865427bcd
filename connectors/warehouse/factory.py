"""Choose the warehouse implementation from settings."""

from __future__ import annotations

from connectors.settings import Settings
from connectors.warehouse.base import Warehouse
from connectors.warehouse.duckdb import DuckDBWarehouse


def open_warehouse(settings: Settings, *, read_only: bool = False) -> Warehouse:
    """The configured warehouse; DuckDB (embedded) unless settings say otherwise."""
    if settings.warehouse == "duckdb":
        return DuckDBWarehouse(
            settings.duckdb_file,
            lock_timeout_s=settings.duckdb_lock_timeout_s,
            memory_limit=settings.duckdb_memory_limit,
            read_only=read_only,
        )
    raise NotImplementedError(
        f"TIDEMARK_WAREHOUSE={settings.warehouse!r} is not available yet; use 'duckdb'"
    )
