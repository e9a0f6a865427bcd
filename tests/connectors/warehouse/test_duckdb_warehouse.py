"""The DuckDB warehouse: short-lived sessions, bounded waiting on another process's lock."""

import subprocess
import sys
import textwrap
import threading

import pyarrow as pa
import pytest

from connectors.warehouse.duckdb import DuckDBWarehouse, WarehouseBusyError

HOLD_LOCK = textwrap.dedent(
    """
    import sys, time, duckdb
    connection = duckdb.connect(sys.argv[1])
    connection.execute("create table if not exists held(x int)")
    print("locked", flush=True)
    sys.stdin.readline()  # hold the file until the test says so
    connection.close()
    print("released", flush=True)
    """
)


@pytest.fixture
def warehouse(tmp_path):
    return DuckDBWarehouse(tmp_path / "w.duckdb", lock_timeout_s=5)


def _hold_lock(path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_arrow_round_trip_and_streamed_batches(warehouse):
    warehouse.execute("create table t (id integer, name varchar)")
    with warehouse.session() as session:
        inserted = session.insert_arrow(
            "t", pa.table({"name": ["a", "b", "c"], "id": pa.array([1, 2, 3], pa.int32())})
        )
        batches = list(session.query_batches("select * from t order by id", batch_rows=2))
    assert inserted == 3
    assert [b.num_rows for b in batches] == [2, 1]
    assert warehouse.query_polars("select name from t order by id")["name"].to_list() == [
        "a",
        "b",
        "c",
    ]
    assert warehouse.table_exists("main", "t")
    assert not warehouse.table_exists("main", "missing")


def test_rolled_back_transaction_leaves_nothing(warehouse):
    warehouse.execute("create table t (id integer)")
    with warehouse.session() as session:
        session.begin()
        session.execute("insert into t values (1)")
        session.rollback()
    assert warehouse.scalar("select count(*) from t") == 0


def test_waits_for_another_process_to_release_the_file(warehouse):
    holder = _hold_lock(warehouse.path)
    result = {}
    reader = threading.Thread(
        target=lambda: result.setdefault("rows", warehouse.scalar("select count(*) from held"))
    )
    try:
        reader.start()
        reader.join(timeout=0.5)
        assert reader.is_alive(), "the reader should be waiting for the lock"
        holder.stdin.write("\n")
        holder.stdin.flush()
        reader.join(timeout=10)
        assert result == {"rows": 0}
    finally:
        holder.wait(timeout=10)


def test_gives_up_with_a_clear_error_when_the_lock_is_held_too_long(tmp_path):
    path = tmp_path / "busy.duckdb"
    holder = _hold_lock(path)
    try:
        impatient = DuckDBWarehouse(path, lock_timeout_s=0.5)
        with pytest.raises(WarehouseBusyError, match="stayed locked by another process"):
            impatient.scalar("select 1")
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=10)


def test_transpiles_engine_sql_for_other_dialects(warehouse):
    class SnowflakeDialect(DuckDBWarehouse):
        dialect = "snowflake"

    sql = "select epoch_ms(ts) as ms from t where name ilike 'a%'"
    assert warehouse.transpile(sql) == sql
    translated = SnowflakeDialect(warehouse.path).transpile(sql)
    assert "ILIKE" in translated.upper()
    assert "EPOCH_MS" not in translated.upper()
