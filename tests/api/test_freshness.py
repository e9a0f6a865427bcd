"""The read cache on its own: bounded, fresh for a while, stale only when the warehouse is held."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.reads.freshness import (
    MAX_ENTRIES,
    WarehouseRead,
    WarehouseReads,
    WarehouseUnavailableError,
)
from connectors.warehouse.duckdb import DuckDBWarehouse, WarehouseBusyError


@pytest.fixture
def reads(tmp_path):
    return WarehouseReads(warehouse=DuckDBWarehouse(tmp_path / "w.duckdb"), fresh_for_s=0)


def test_distinct_reads_are_remembered_up_to_a_bound(reads):
    for i in range(MAX_ENTRIES + 10):
        reads.read(f"experiments:{i}", lambda _w, now: WarehouseRead(as_of=now))
    assert len(reads._entries) == MAX_ENTRIES
    assert "experiments:0" not in reads._entries
    assert f"experiments:{MAX_ENTRIES + 9}" in reads._entries


def test_a_held_warehouse_serves_the_last_result_or_says_it_is_busy(reads):
    first = reads.read("segments", lambda _w, now: WarehouseRead(as_of=now))

    def held(_w, _now):
        raise WarehouseBusyError("held by a build")

    again = reads.read("segments", held)
    assert (again.stale, again.as_of) == (True, first.as_of)
    with pytest.raises(WarehouseUnavailableError, match="no earlier result"):
        reads.read("overview", held)


def test_concurrent_first_reads_run_the_query_once_and_share_its_result(tmp_path):
    reads = WarehouseReads(warehouse=DuckDBWarehouse(tmp_path / "w.duckdb"), fresh_for_s=60)
    started, release, calls = threading.Event(), threading.Event(), []

    def slow_query(_w, now):
        calls.append(now)
        started.set()
        assert release.wait(timeout=30)
        return WarehouseRead(as_of=now)

    with ThreadPoolExecutor(max_workers=8) as pool:
        first = pool.submit(reads.read, "segment:high_value", slow_query)
        assert started.wait(timeout=30)
        others = [pool.submit(reads.read, "segment:high_value", slow_query) for _ in range(7)]
        release.set()
        results = [first.result(timeout=30)] + [f.result(timeout=30) for f in others]

    assert len(calls) == 1
    assert {r.as_of for r in results} == {calls[0]}
