"""The Dagster resource through which every asset, sensor and schedule reaches Tidemark's parts.

It reads `Settings` (env `TIDEMARK_*`) in one place; the optional `home` override lets tests
and `tidemark demo` point a whole code location at another folder without touching env vars.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from activation.engine import ActivationEngine
from activation.from_settings import engine_from_settings
from connectors.landing import LandingZone, open_landing_zone
from connectors.settings import Settings
from connectors.warehouse.base import Warehouse
from connectors.warehouse.factory import open_warehouse

#: Dagster pool shared by every op that writes the warehouse; on DuckDB its limit is 1
#: (see dagster.yaml), because DuckDB admits one writing process at a time.
WAREHOUSE_WRITERS_POOL = "warehouse_writers"


class TidemarkResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Settings-driven access to the warehouse and the landing zone."""

    home: str | None = None

    def settings(self) -> Settings:
        return Settings(home=Path(self.home)) if self.home else Settings()

    def warehouse(self) -> Warehouse:
        return open_warehouse(self.settings())

    def landing(self) -> LandingZone:
        return open_landing_zone(self.settings())

    def activation_engine(self) -> ActivationEngine:
        return engine_from_settings(self.settings())
