"""The monitoring models (`models/monitoring`) built over hand-made histories, for the tests
of what reads their flags: the engine's anomaly holds and the Dagster asset checks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from connectors.warehouse.base import Warehouse
from tests.dbt.test_dbt_project import failures, run_dbt_build

START = datetime(2026, 3, 1)
STEADY_SIZES = [1000, 1003, 1001, 1004, 1006, 1005, 1008, 1010, 1009, 1012]
"""Ten daily builds of a segment drifting by a few members: its normal history."""
JUMP = 1450
"""The eleventh build: 438 more members than the day before."""

STEADY_DAYS = [(1000, 20 + n % 3, n % 2) for n in range(10)]
"""(sent, bounces, complaints) of ten ordinary days: about 2% bounces, rare complaints."""
BOUNCE_SPIKE = (1000, 90, 1)
"""An eleventh day with 9% bounces."""


def record_sizes(warehouse: Warehouse, segment: str, sizes: list[int]) -> None:
    """One recorded size per daily build, as the segments' post-hook appends them."""
    warehouse.execute("create schema if not exists analytics")
    warehouse.execute(
        "create table if not exists analytics.segment_size_history "
        "(segment varchar not null, measured_at timestamp not null, members bigint not null)"
    )
    for day, members in enumerate(sizes):
        warehouse.execute(
            "insert into analytics.segment_size_history values (?, ?, ?)",
            [segment, START + timedelta(days=day), members],
        )


def write_deliverability(warehouse: Warehouse, days: list[tuple[int, int, int]]) -> None:
    """`analytics.deliverability_daily` with one mailbox domain and one row per day."""
    warehouse.execute("create schema if not exists analytics")
    warehouse.execute(
        "create or replace table analytics.deliverability_daily (event_date date, "
        "mailbox_domain varchar, sent bigint, delivered bigint, hard_bounces bigint, "
        "soft_bounces bigint, complaints bigint)"
    )
    for number, (sent, bounces, complaints) in enumerate(days):
        day: date = (START + timedelta(days=number)).date()
        warehouse.execute(
            "insert into analytics.deliverability_daily values (?, 'example.com', ?, ?, ?, 0, ?)",
            [day, sent, sent - bounces, bounces, complaints],
        )


def build_monitoring_models(
    duckdb_file: Path, run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Build `segment_size_anomalies` (a view) and `deliverability_anomalies` (a table, so
    write the deliverability history first)."""
    result = run_dbt_build(
        duckdb_file,
        run_dir,
        monkeypatch,
        dbt_vars={},
        extra_args=["--select", "path:models/monitoring", "--exclude", "resource_type:unit_test"],
    )
    assert result.success, failures(result)
