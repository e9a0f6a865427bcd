"""Incremental models that aggregate the event marts hold what a full refresh would compute.

`deliverability_daily` (by day) and `int_profile_email_engagement_aggregated` (by profile)
count again only what new loads, or a moved `as_of`, can change. After each step of a
realistic history (new feedback for old and new days, `as_of` a month later with nothing
new, `as_of` moved back as in a backfill) a copy of the warehouse is rebuilt from scratch and
every row must match, apart from the bookkeeping columns. The history starts from tables
built before the models were incremental, as an existing warehouse holds them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.dbt.test_dbt_project import (
    AS_OF,
    create_warehouse,
    failures,
    land,
    load_first_batches,
    message_event,
    query,
    run_dbt_build,
)

pytestmark = pytest.mark.slow

INCREMENTAL_AGGREGATES = {
    "analytics.deliverability_daily": ("event_date", "mailbox_domain"),
    "intermediate.int_profile_email_engagement_aggregated": ("profile_id",),
}
BOOKKEEPING = {"inputs_loaded_through", "computed_as_of"}

NEW_FEEDBACK = [
    # A click on a message of an already-counted day, and a new profile on a new day.
    message_event(
        "n1", "alice", "click", "2024-05-29 12:00:00", message_id="msg-a", recipient="a@x.io"
    ),
    message_event("n2", "grace", "sent", "2024-05-31 08:00:00", message_id="msg-g"),
    message_event("n3", "grace", "delivered", "2024-05-31 08:01:00", message_id="msg-g"),
    message_event("n4", "grace", "open", "2024-05-31 09:00:00", message_id="msg-g"),
]


def columns_of(warehouse: Path, table: str) -> list[tuple[Any, ...]]:
    return query(
        warehouse,
        "select column_name from information_schema.columns "
        f"where table_schema || '.' || table_name = '{table}' order by ordinal_position",
    )


def rows(warehouse: Path, table: str) -> list[tuple[Any, ...]]:
    columns = [name for (name,) in columns_of(warehouse, table) if name not in BOOKKEEPING]
    order = ", ".join(INCREMENTAL_AGGREGATES[table])
    return query(warehouse, f"select {', '.join(columns)} from {table} order by {order}")


def assert_same_as_a_full_refresh(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_of: str, step: str
) -> None:
    scratch = tmp_path / f"full-{step}"
    scratch.mkdir()
    copy = scratch / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    # dbt-duckdb keeps the file open in this process: what it wrote may still be in the WAL.
    wal = warehouse.with_name(warehouse.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
    result = run_dbt_build(
        copy,
        scratch,
        monkeypatch,
        dbt_vars={"as_of": as_of},
        extra_args=[
            "--full-refresh",
            "--select",
            *(t.split(".")[1] for t in INCREMENTAL_AGGREGATES),
        ],
    )
    assert result.success, failures(result)
    for table in INCREMENTAL_AGGREGATES:
        assert rows(warehouse, table) == rows(copy, table), f"{table} after {step}"


def build(warehouse: Path, work: Path, monkeypatch: pytest.MonkeyPatch, as_of: str) -> None:
    result = run_dbt_build(
        warehouse,
        work,
        monkeypatch,
        dbt_vars={"as_of": as_of},
        extra_args=["--exclude-resource-type", "unit_test"],
    )
    assert result.success, failures(result)


def test_incremental_aggregates_equal_a_full_refresh_through_loads_and_moves_of_as_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    warehouse = work / "warehouse.duckdb"
    create_warehouse(warehouse)
    load_first_batches(warehouse)
    build(warehouse, work, monkeypatch, AS_OF)
    # A warehouse built before these models were incremental holds them without the marks.
    for table in INCREMENTAL_AGGREGATES:
        for column in BOOKKEEPING & {name for (name,) in columns_of(warehouse, table)}:
            query(warehouse, f"alter table {table} drop column {column}")

    land(
        warehouse,
        "message_events",
        NEW_FEEDBACK,
        landing_key="messages/2",
        loaded_at="2024-06-01 13:00:00",
    )
    build(warehouse, work, monkeypatch, AS_OF)
    for table in INCREMENTAL_AGGREGATES:  # the marks are back, so the next build is incremental
        assert "inputs_loaded_through" in {name for (name,) in columns_of(warehouse, table)}
    assert query(
        warehouse,
        "select email_clicks_90d, email_opens_90d from "
        "intermediate.int_profile_email_engagement_aggregated where profile_id = 'alice'",
    ) == [(1, 1)]
    assert query(
        warehouse,
        "select sent, unique_opens from analytics.deliverability_daily "
        "where event_date = date '2024-05-31'",
    ) == [(1, 1)]
    assert_same_as_a_full_refresh(warehouse, tmp_path, monkeypatch, AS_OF, "new feedback")

    # A month on with nothing new: dave's April send and bounce leave the 90-day window.
    a_month_later = "2024-07-01 12:00:00"
    build(warehouse, work, monkeypatch, a_month_later)
    assert query(
        warehouse,
        "select email_sends_90d from intermediate.int_profile_email_engagement_aggregated "
        "where profile_id = 'dave'",
    ) == [(0,)]
    assert_same_as_a_full_refresh(warehouse, tmp_path, monkeypatch, a_month_later, "a month on")

    # A backfill moves as_of back: April counts again.
    build(warehouse, work, monkeypatch, AS_OF)
    assert query(
        warehouse,
        "select email_sends_90d from intermediate.int_profile_email_engagement_aggregated "
        "where profile_id = 'dave'",
    ) == [(1,)]
    assert_same_as_a_full_refresh(warehouse, tmp_path, monkeypatch, AS_OF, "as_of moved back")
