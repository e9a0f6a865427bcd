"""`ops_dsn`: an ops store location on each engine, a SQLite file and a PostgreSQL database."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ops_dsn(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'ops.sqlite'}"
    url: str = request.getfixturevalue("postgres_url")
    return url
