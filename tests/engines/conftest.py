"""The real engines behind the warehouse interface, for tests that run on each of them.

- DuckDB: a file in tmp_path (the embedded default).
- ClickHouse: chDB, the ClickHouse engine in process, in a folder of tmp_path, reached with
  clickhouse-connect's `chdb://` DSN exactly as a server would be.
- Snowflake: fakesnow's server (one per test session, on a free local port), reached with
  snowflake-connector-python over HTTP; each test gets a database of its own.

Every warehouse is built from `Settings` by `open_warehouse`, as production builds it.
`any_warehouse` runs a test once per engine; the ClickHouse and Snowflake cases carry the
`clickhouse` / `snowflake` markers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import snowflake.connector

# The function, bound now: fakesnow.server() runs `import fakesnow.server`, which rebinds the
# package's `server` attribute to the submodule, so a second server in the same process (a
# module that imports this fixture gets its own session instance) found a module, not a function.
from fakesnow import server as start_fakesnow_server

from connectors.settings import Settings
from connectors.warehouse.base import Warehouse
from connectors.warehouse.factory import open_warehouse

ENGINES = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("clickhouse", id="clickhouse", marks=pytest.mark.clickhouse),
    pytest.param("snowflake", id="snowflake", marks=pytest.mark.snowflake),
]


@pytest.fixture(scope="session")
def fakesnow_server() -> Iterator[dict[str, Any]]:
    """Connection arguments of a running fakesnow server (in memory)."""
    with start_fakesnow_server() as connect_args:
        yield connect_args


def snowflake_settings(home: Any, server: dict[str, Any], database: str) -> Settings:
    return Settings(
        home=home,
        warehouse="snowflake",
        snowflake_account=server["account"],
        snowflake_user=server["user"],
        snowflake_password=server["password"],
        snowflake_host=server["host"],
        snowflake_port=server["port"],
        snowflake_protocol=server["protocol"],
        snowflake_database=database,
    )


@pytest.fixture
def snowflake_database(fakesnow_server: dict[str, Any]) -> str:
    """A fresh, empty database on the fakesnow server, for this test alone."""
    name = f"TIDEMARK_{uuid.uuid4().hex[:12].upper()}"
    connection = snowflake.connector.connect(**fakesnow_server)
    try:
        connection.cursor().execute(f"create database {name}")
    finally:
        connection.close()
    return name


def engine_settings(engine: str, request: pytest.FixtureRequest, home: Any) -> Settings:
    if engine == "duckdb":
        return Settings(home=home, warehouse="duckdb")
    if engine == "clickhouse":
        return Settings(home=home, warehouse="clickhouse")
    server = request.getfixturevalue("fakesnow_server")
    database = request.getfixturevalue("snowflake_database")
    return snowflake_settings(home, server, database)


@pytest.fixture(params=ENGINES)
def any_settings(request: pytest.FixtureRequest, tmp_path: Any) -> Settings:
    """Settings pointing at one engine (the test runs once per engine)."""
    return engine_settings(request.param, request, tmp_path)


@pytest.fixture
def any_warehouse(any_settings: Settings) -> Warehouse:
    return open_warehouse(any_settings)
