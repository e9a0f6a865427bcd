"""Choose the warehouse implementation from settings."""

from __future__ import annotations

from connectors.settings import Settings
from connectors.warehouse.base import Warehouse
from connectors.warehouse.duckdb import DuckDBWarehouse


def open_warehouse(settings: Settings, *, read_only: bool = False) -> Warehouse:
    """The configured warehouse; DuckDB (embedded) unless settings say otherwise.

    The ClickHouse and Snowflake clients are optional dependencies (extras), imported only
    when chosen, so a DuckDB install never needs them.
    """
    if settings.warehouse == "duckdb":
        return DuckDBWarehouse(
            settings.duckdb_file,
            lock_timeout_s=settings.duckdb_lock_timeout_s,
            memory_limit=settings.duckdb_memory_limit,
            read_only=read_only,
        )
    if settings.warehouse == "clickhouse":
        from connectors.warehouse.clickhouse import ClickHouseWarehouse

        return ClickHouseWarehouse(settings.clickhouse_dsn())
    from connectors.warehouse.snowflake import SnowflakeWarehouse

    return SnowflakeWarehouse(settings.snowflake_connect_args())
