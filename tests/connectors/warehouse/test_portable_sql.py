"""Parameters bound as literals before transpiling: quoting, kinds, and clear errors."""

from datetime import datetime

import pytest

from connectors.warehouse.clickhouse import ClickHouseWarehouse
from connectors.warehouse.portable_sql import bind_literals, engine_statements


def test_values_are_quoted_and_question_marks_in_strings_left_alone():
    sql = "select * from t where a = ? and b = '?' and c = ?"

    bound = bind_literals(sql, ["it's", datetime(2026, 1, 2, 3, 4, 5, 6)])

    assert bound == (
        "select * from t where a = 'it''s' and b = '?' "
        "and c = CAST('2026-01-02 03:04:05.000006' AS TIMESTAMP)"
    )


def test_named_parameters_may_share_one_mapping():
    bound = bind_literals("select $a + $a, $b", {"a": 1, "b": None, "unused": 3})
    assert bound == "select 1 + 1, NULL"


@pytest.mark.parametrize(
    ("sql", "params", "message"),
    [
        ("select ?, ?", [1], "more than the 1"),
        ("select ?", [1, 2], "uses 1 parameters, 2 were given"),
        ("select $a", {}, "'a'"),
        ("select ?", {"a": 1}, "named"),
        ("select $a", [1], "positional"),
    ],
)
def test_mismatched_parameters_are_refused_with_the_reason(sql, params, message):
    with pytest.raises(ValueError, match=message):
        bind_literals(sql, params)


def test_a_key_list_becomes_a_plain_in_list_on_other_engines():
    sql = "select k from t where k in (select unnest(?::varchar[]))"

    assert engine_statements(sql, [["a", "b"]], "snowflake") == [
        "SELECT k FROM t WHERE k IN ('a', 'b')"
    ]


def test_clickhouse_keeps_microseconds_and_declared_nullability():
    warehouse = ClickHouseWarehouse("chdb:///unused")

    ddl = warehouse.transpile("create table t (a timestamp, b varchar not null, c varchar)")

    assert (
        ddl == "CREATE TABLE t (a Nullable(DateTime64(6)), b String NOT NULL, c Nullable(String))"
    )


def test_clickhouse_delete_of_every_row_gets_the_where_clause_it_requires():
    warehouse = ClickHouseWarehouse("chdb:///unused")
    assert warehouse.transpile("delete from t") == "DELETE FROM t WHERE TRUE"
