"""One contract, three engines: the warehouse interface behaves the same on each.

Every statement below is written once, in the DuckDB dialect, as Tidemark's own code writes
it; the ClickHouse and Snowflake warehouses transpile it. The assertions are what a caller
relies on: values and types back as written, batches, transactions, parameters.
"""

from datetime import datetime

import pyarrow as pa
import pytest

from connectors.settings import Settings
from connectors.warehouse.base import Warehouse
from connectors.warehouse.factory import open_warehouse

MOMENT = datetime(2026, 11, 27, 12, 30, 15, 123456)

PEOPLE = pa.table(
    {
        "id": pa.array([1, 2, 3], pa.int64()),
        "name": ["ada", "o'brien", None],
        "score": [1.5, None, -2.25],
        "seen_at": pa.array([MOMENT, None, datetime(2020, 1, 1)], pa.timestamp("us")),
    }
)


def create_people(warehouse: Warehouse) -> None:
    warehouse.execute("create schema if not exists app")
    warehouse.execute(
        "create table if not exists app.people "
        "(id bigint not null, name varchar, score double, seen_at timestamp)"
    )


def test_arrow_in_and_out_with_values_and_types_intact(any_warehouse):
    create_people(any_warehouse)
    with any_warehouse.session() as session:
        # Columns are matched by name, not position.
        inserted = session.insert_arrow(
            "app.people", PEOPLE.select(["seen_at", "name", "id", "score"])
        )
        result = session.query_arrow("select id, name, score, seen_at from app.people order by id")
        null_times = session.scalar("select count(*) from app.people where seen_at is null")

    assert inserted == 3
    assert result.column_names == ["id", "name", "score", "seen_at"]
    assert result.schema.field("seen_at").type == pa.timestamp("us")
    # fakesnow's server sends a NULL timestamp as 1970-01-01 (the stored value is NULL, as
    # `is null` shows); so NULL timestamps are checked in SQL, everything else as read back.
    assert null_times == 1
    expected = PEOPLE.to_pylist()
    assert result.select(["id", "name", "score"]).to_pylist() == [
        {k: row[k] for k in ("id", "name", "score")} for row in expected
    ]
    assert [result.column("seen_at")[i].as_py() for i in (0, 2)] == [MOMENT, datetime(2020, 1, 1)]


def test_large_results_stream_in_batches(any_warehouse):
    create_people(any_warehouse)
    rows = pa.table({"id": pa.array(range(2500), pa.int64())})
    with any_warehouse.session() as session:
        session.insert_arrow("app.people", rows)
        batches = list(session.query_batches("select id from app.people", batch_rows=1000))

    assert all(batch.num_rows <= 1000 for batch in batches)
    ids = sorted(i for batch in batches for i in batch.column("id").to_pylist())
    assert ids == list(range(2500))


def test_parameters_positional_named_and_lists(any_warehouse):
    create_people(any_warehouse)
    with any_warehouse.session() as session:
        session.insert_arrow("app.people", PEOPLE)
        by_list = session.query_arrow(
            "select id from app.people where name in (select unnest(?::varchar[])) order by id",
            [["ada", "o'brien", "nobody"]],
        )
        by_name = session.scalar(
            "select count(*) from app.people where seen_at >= $since and score < $below",
            {"since": MOMENT, "below": 2, "unused": "ignored"},
        )
        session.execute(
            "insert into app.people (id, name, seen_at) values (?, ?, ?)",
            [4, "it's -- not a comment ?", datetime(2021, 5, 6, 7, 8, 9)],
        )
        added = session.query_arrow("select name, seen_at from app.people where id = 4")

    assert by_list.column("id").to_pylist() == [1, 2]
    assert by_name == 1
    assert added.to_pylist() == [
        {"name": "it's -- not a comment ?", "seen_at": datetime(2021, 5, 6, 7, 8, 9)}
    ]


def test_missing_parameter_is_named(any_warehouse):
    create_people(any_warehouse)
    with pytest.raises(ValueError, match="'since'"):
        any_warehouse.scalar("select count(*) from app.people where seen_at >= $since", {})


def test_rollback_discards_and_commit_keeps(any_warehouse):
    create_people(any_warehouse)
    with any_warehouse.session() as session:
        session.begin()
        session.insert_arrow("app.people", PEOPLE)
        session.execute("insert into app.people (id) values (?)", [9])
        session.rollback()
        session.begin()
        session.insert_arrow("app.people", PEOPLE.slice(0, 1))
        session.commit()

    assert any_warehouse.scalar("select count(*) from app.people") == 1
    assert any_warehouse.scalar("select name from app.people") == "ada"


def test_a_transaction_reads_its_own_writes(any_warehouse):
    create_people(any_warehouse)
    with any_warehouse.session() as session:
        session.begin()
        session.insert_arrow("app.people", PEOPLE)
        seen_inside = session.scalar("select count(*) from app.people")
        session.execute("delete from app.people")
        session.commit()

    assert seen_inside == 3
    assert any_warehouse.scalar("select count(*) from app.people") == 0


def test_table_exists_whatever_case_the_catalog_keeps(any_warehouse):
    create_people(any_warehouse)
    assert any_warehouse.table_exists("app", "people")
    assert not any_warehouse.table_exists("app", "missing")
    assert not any_warehouse.table_exists("nowhere", "people")


def test_describe_names_the_place_never_the_credentials():
    clickhouse = Settings(
        warehouse="clickhouse",
        clickhouse_host="ch.internal",
        clickhouse_user="loader",
        clickhouse_password="pa55-w0rd",
    )
    snowflake = Settings(
        warehouse="snowflake",
        snowflake_account="acme-eu",
        snowflake_user="loader",
        snowflake_password="pa55-w0rd",
    )
    described = [open_warehouse(clickhouse).describe(), open_warehouse(snowflake).describe()]

    assert described == [
        "clickhouse:http://ch.internal:8123/default",
        "snowflake:acme-eu.snowflakecomputing.com/TIDEMARK/PUBLIC",
    ]
