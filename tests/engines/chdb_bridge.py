"""Test-only bridge: dbt-clickhouse's HTTP client, handed a chDB-backed client instead.

dbt-clickhouse builds its connection with `clickhouse_connect.get_client(host=..., ...)`.
Inside this context that call returns clickhouse-connect's chDB client on the warehouse's
folder, with the session settings the profile asked for, so dbt-clickhouse's own SQL runs on
the real ClickHouse engine in this process. Nothing of Tidemark's is replaced.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import clickhouse_connect
import pytest
from dbt.adapters.clickhouse import httpclient


@contextmanager
def dbt_clickhouse_on_chdb(dsn: str) -> Iterator[None]:
    def chdb_client(**kwargs: Any) -> Any:
        return clickhouse_connect.get_client(dsn=dsn, settings=kwargs.get("settings"))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpclient, "clickhouse_connect", SimpleNamespace(get_client=chdb_client))
        yield
