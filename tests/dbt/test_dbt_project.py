"""The dbt project, built for real on a DuckDB file.

Hand-made raw rows are crafted so that the members of every segment and the key profile traits
are known in advance: duplicates within and across batches, a profile updated twice, an invalid
email, withdrawn consent, a hard bounce. A second load checks that the incremental marts add new
rows without duplicating old ones. The jaffle-shop classic CSVs check that third-party data flows
through the models with the lifetime values its payments imply.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt.artifacts.schemas.run import RunExecutionResult
from dbt.cli.main import dbtRunner, dbtRunnerResult

from connectors.raw_schemas import DATASETS
from connectors.warehouse.raw_tables import bootstrap_ddl
from tests.fixtures.shared_payloads import JAFFLE_SHOP

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt"
JAFFLE_SHOP_DIR = JAFFLE_SHOP
AS_OF = "2024-06-01 12:00:00"

pytestmark = pytest.mark.slow


def run_dbt_build(
    warehouse: Path,
    run_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    dbt_vars: dict[str, Any],
    extra_args: Sequence[str] = (),
) -> dbtRunnerResult:
    """Run `dbt build` in process against the DuckDB file `warehouse`.

    Target and log paths go under `run_dir`, so tests building in parallel never share dbt's
    artifacts; reusing one `run_dir` for consecutive builds lets dbt parse partially.
    """
    monkeypatch.setenv("TIDEMARK_DUCKDB_PATH", str(warehouse.resolve()))
    args = [
        "build",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target",
        "duckdb",
        "--target-path",
        str(run_dir / "target"),
        "--log-path",
        str(run_dir / "logs"),
        "--vars",
        json.dumps(dbt_vars),
        "--quiet",
        *extra_args,
    ]
    return dbtRunner().invoke(args)


def failures(result: dbtRunnerResult) -> list[str]:
    """Readable lines for whatever failed, for assertion messages."""
    if result.exception is not None:
        return [str(result.exception)]
    if not isinstance(result.result, RunExecutionResult):
        return []
    return [
        f"{r.node.unique_id}: {r.status} {r.message}"
        for r in result.result.results
        if str(r.status) not in {"success", "pass"}
    ]


def create_warehouse(path: Path) -> None:
    with duckdb.connect(str(path)) as connection:
        for statement in bootstrap_ddl():
            connection.execute(statement)


def land(
    path: Path, dataset: str, rows: list[dict[str, Any]], *, landing_key: str, loaded_at: str
) -> None:
    """Append `rows` to raw.<dataset> the way the loader does: one file, one load time."""
    columns = [*DATASETS[dataset].schema.names, "_landing_key", "_loaded_at"]
    unknown = {name for row in rows for name in row} - set(columns)
    assert not unknown, f"columns not in the {dataset} contract: {sorted(unknown)}"
    values = [
        [row.get(name) for name in DATASETS[dataset].schema.names]
        + [landing_key, datetime.fromisoformat(loaded_at)]
        for row in rows
    ]
    placeholders = ", ".join("?" for _ in columns)
    with duckdb.connect(str(path)) as connection:
        connection.executemany(
            f"insert into raw.{dataset} ({', '.join(columns)}) values ({placeholders})", values
        )


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path)) as connection:
        return connection.execute(sql).fetchall()


def ids(path: Path, table: str) -> set[str]:
    return {row[0] for row in query(path, f"select profile_id from {table}")}


# --- the hand-made data set -------------------------------------------------------------------
# as_of is 2024-06-01 12:00:00. Who is who:
#   alice  updated twice (an old version re-delivered later must not win); email granted
#          2024-05-28 -> new subscriber; orders 400 + 250 (the 250 one in two files) -> LTV 650,
#          high value; a soft bounce does not suppress her.
#   bob    invalid email, unknown time zone -> UTC; add_to_cart 3 h ago, never ordered ->
#          cart abandoner (until the incremental load brings his order).
#   carol  email granted then withdrawn; one order in January -> lapsed.
#   dave   hard bounce -> suppressed; add_to_cart then an order 30 minutes later -> not an
#          abandoner; recent order -> not lapsed.
#   erin   sms only; last order 2024-02-15 -> lapsed; add_to_cart 25 h ago -> not an abandoner.
#   frank  no email; add_to_cart exactly 24 h before as_of -> cart abandoner (boundary).


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def profile(profile_id: str, updated_at: str, **fields: Any) -> dict[str, Any]:
    return {
        "profile_id": profile_id,
        "created_at": ts("2023-06-01 00:00:00"),
        "updated_at": ts(updated_at),
        "source": "test",
        **fields,
    }


def consent(event_id: str, profile_id: str, channel: str, status: str, at: str) -> dict[str, Any]:
    return {
        "consent_event_id": event_id,
        "profile_id": profile_id,
        "channel": channel,
        "status": status,
        "occurred_at": ts(at),
        "source": "test",
    }


def event(
    event_id: str, profile_id: str, event_type: str, at: str, **fields: Any
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "profile_id": profile_id,
        "event_type": event_type,
        "occurred_at": ts(at),
        "source": "test",
        **fields,
    }


def order(event_id: str, profile_id: str, at: str, revenue: float) -> dict[str, Any]:
    return event(event_id, profile_id, "order", at, order_id=f"o-{event_id}", revenue=revenue)


def message_event(
    event_id: str, profile_id: str | None, event_type: str, at: str, **fields: Any
) -> dict[str, Any]:
    return {
        "message_event_id": event_id,
        "message_id": fields.pop("message_id", f"m-{event_id}"),
        "profile_id": profile_id,
        "channel": "email",
        "event_type": event_type,
        "occurred_at": ts(at),
        "provider": "test",
        **fields,
    }


FIRST_BATCH_PROFILES = [
    # alice: updated twice; her first version is re-delivered later and must not win.
    profile(
        "alice",
        "2024-01-01 00:00:00",
        email=" Alice@Example.COM ",
        first_name="Alice",
        phone="+33600000001",
        time_zone="Europe/Paris",
    ),
    profile(
        "alice",
        "2024-03-01 00:00:00",
        email="alice@example.com",
        first_name="Ali",
        phone="+33600000001",
        time_zone="Europe/Paris",
    ),
    profile(
        "bob",
        "2024-01-01 00:00:00",
        email="bob@example",
        first_name="Bob",
        time_zone="Mars/Olympus",
    ),
    profile("carol", "2024-01-01 00:00:00", email="carol@example.com", first_name="Carol"),
    profile(
        "dave",
        "2024-01-01 00:00:00",
        email="dave@example.com",
        first_name="Dave",
        time_zone="America/New_York",
    ),
    profile(
        "erin",
        "2024-01-01 00:00:00",
        email="erin@example.com",
        first_name="Erin",
        phone="+15550000005",
    ),
    profile("frank", "2024-01-01 00:00:00", phone="+15550000006", first_name="Frank"),
]
SECOND_BATCH_PROFILES = [
    profile(
        "alice",
        "2024-05-01 00:00:00",
        email="ALICE@example.com",
        first_name="Alicia",
        phone="+33600000001",
        time_zone="America/New_York",
    ),
    profile(
        "alice",
        "2024-01-01 00:00:00",
        email="alice-old@example.com",
        first_name="Alice",
        time_zone="Europe/Paris",
    ),
]
CONSENTS = [
    consent("c1", "alice", "email", "granted", "2024-05-28 09:00:00"),
    consent("c2", "bob", "email", "granted", "2024-01-10 09:00:00"),
    consent("c3", "carol", "email", "granted", "2024-05-30 09:00:00"),
    consent("c4", "carol", "email", "withdrawn", "2024-05-31 09:00:00"),
    consent("c5", "dave", "email", "granted", "2024-02-01 09:00:00"),
    consent("c6", "erin", "sms", "granted", "2024-02-01 09:00:00"),
    consent("c7", "frank", "sms", "granted", "2024-02-01 09:00:00"),
]
FIRST_BATCH_EVENTS = [
    order("a1", "alice", "2024-04-10 10:00:00", 400.00),
    order("a2", "alice", "2024-05-20 10:00:00", 250.00),
    event("a3", "alice", "page_view", "2024-05-31 08:00:00"),
    event("b1", "bob", "add_to_cart", "2024-06-01 09:00:00", product_id="sku-1", quantity=1),
    order("c1", "carol", "2024-01-05 10:00:00", 40.00),
    event("d1", "dave", "add_to_cart", "2024-06-01 10:00:00", product_id="sku-2", quantity=2),
    order("d2", "dave", "2024-06-01 10:30:00", 120.00),
    order("e1", "erin", "2023-12-01 10:00:00", 300.00),
    order("e2", "erin", "2024-02-15 10:00:00", 100.00),
    event("e3", "erin", "add_to_cart", "2024-05-31 11:00:00", product_id="sku-3", quantity=1),
    event("f1", "frank", "add_to_cart", "2024-05-31 12:00:00", product_id="sku-4", quantity=1),
]
# The second file of the first load repeats alice's second order (same event id).
SECOND_BATCH_EVENTS = [order("a2", "alice", "2024-05-20 10:00:00", 250.00)]
MESSAGE_EVENTS = [
    message_event(
        "m1",
        "alice",
        "sent",
        "2024-05-29 10:00:00",
        message_id="msg-a",
        recipient="alice@example.com",
    ),
    message_event(
        "m2",
        "alice",
        "open",
        "2024-05-29 11:00:00",
        message_id="msg-a",
        recipient="alice@example.com",
    ),
    message_event(
        "m3",
        "alice",
        "bounce",
        "2024-05-01 10:00:00",
        bounce_type="soft",
        recipient="alice@example.com",
    ),
    message_event(
        "m4",
        "dave",
        "sent",
        "2024-04-01 09:00:00",
        message_id="msg-d",
        recipient="dave@example.com",
    ),
    message_event(
        "m5",
        "dave",
        "bounce",
        "2024-04-01 09:01:00",
        message_id="msg-d",
        bounce_type="hard",
        recipient="Dave@Example.com",
    ),
    message_event("m6", None, "complaint", "2024-05-15 09:00:00", recipient="stranger@example.org"),
]
# The next load: bob orders after his cart; alice's first order arrives again (already stored).
THIRD_BATCH_EVENTS = [
    order("b2", "bob", "2024-06-01 11:00:00", 35.50),
    order("a1", "alice", "2024-04-10 10:00:00", 400.00),
]
THIRD_BATCH_MESSAGE_EVENTS = [
    message_event(
        "m7",
        "alice",
        "click",
        "2024-05-29 11:05:00",
        message_id="msg-a",
        url="https://shop.example/x",
    ),
    message_event(
        "m2",
        "alice",
        "open",
        "2024-05-29 11:00:00",
        message_id="msg-a",
        recipient="alice@example.com",
    ),
]


def load_first_batches(path: Path) -> None:
    land(
        path,
        "profiles",
        FIRST_BATCH_PROFILES,
        landing_key="profiles/1",
        loaded_at="2024-06-01 00:00:00",
    )
    land(
        path,
        "profiles",
        SECOND_BATCH_PROFILES,
        landing_key="profiles/2",
        loaded_at="2024-06-01 01:00:00",
    )
    land(
        path, "consent_events", CONSENTS, landing_key="consents/1", loaded_at="2024-06-01 00:00:00"
    )
    land(
        path, "events", FIRST_BATCH_EVENTS, landing_key="events/1", loaded_at="2024-06-01 00:00:00"
    )
    land(
        path, "events", SECOND_BATCH_EVENTS, landing_key="events/2", loaded_at="2024-06-01 01:00:00"
    )
    land(
        path,
        "message_events",
        MESSAGE_EVENTS,
        landing_key="messages/1",
        loaded_at="2024-06-01 00:00:00",
    )


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The hand-made data set, built once for the module: (warehouse file, dbt run dir)."""
    work = tmp_path_factory.mktemp("dbt_project")
    warehouse = work / "warehouse.duckdb"
    create_warehouse(warehouse)
    load_first_batches(warehouse)
    with pytest.MonkeyPatch.context() as monkeypatch:
        result = run_dbt_build(warehouse, work, monkeypatch, dbt_vars={"as_of": AS_OF})
        assert result.success, failures(result)
        yield warehouse, work


def test_build_runs_every_model_test_and_unit_test(built_warehouse: tuple[Path, Path]) -> None:
    warehouse, work = built_warehouse
    run_results = json.loads((work / "target" / "run_results.json").read_text())
    statuses = {
        r["unique_id"]: r["status"]
        for r in run_results["results"]
        if not r["unique_id"].startswith("exposure.")  # activations: nothing for dbt to build
    }
    assert all(status in {"success", "pass"} for status in statuses.values()), statuses
    kinds: defaultdict[str, int] = defaultdict(int)
    for unique_id in statuses:
        kinds[unique_id.split(".")[0]] += 1
    assert kinds["model"] >= 20
    assert kinds["unit_test"] >= 6
    assert kinds["test"] >= 50
    tables = {
        row[0]
        for row in query(
            warehouse,
            "select table_name from information_schema.tables where table_schema = 'analytics'",
        )
    }
    assert {"profiles", "events", "message_events", "suppressions"} <= tables


def test_segment_memberships(built_warehouse: tuple[Path, Path]) -> None:
    warehouse, _ = built_warehouse
    assert ids(warehouse, "analytics.segment_new_subscribers_7d") == {"alice"}
    assert ids(warehouse, "analytics.segment_cart_abandoners_24h") == {"bob", "frank"}
    assert ids(warehouse, "analytics.segment_lapsed_customers_90d") == {"carol", "erin"}
    assert ids(warehouse, "analytics.segment_high_value") == {"alice"}


def test_segments_carry_the_columns_that_explain_membership(
    built_warehouse: tuple[Path, Path],
) -> None:
    warehouse, _ = built_warehouse
    carts = dict(
        query(
            warehouse, "select profile_id, cart_added_at from analytics.segment_cart_abandoners_24h"
        )
    )
    assert carts == {"bob": ts("2024-06-01 09:00:00"), "frank": ts("2024-05-31 12:00:00")}
    assert query(
        warehouse,
        "select profile_id, email, time_zone, subscribed_at "
        "from analytics.segment_new_subscribers_7d",
    ) == [("alice", "alice@example.com", "America/New_York", ts("2024-05-28 09:00:00"))]
    assert query(
        warehouse,
        "select profile_id, lifetime_value, membership_reason from analytics.segment_high_value",
    ) == [("alice", Decimal("650.00"), "lifetime_value_threshold")]


def test_profiles_have_one_row_each_with_the_latest_version(
    built_warehouse: tuple[Path, Path],
) -> None:
    warehouse, _ = built_warehouse
    assert query(
        warehouse, "select count(*), count(distinct profile_id) from analytics.profiles"
    ) == [(6, 6)]
    assert query(
        warehouse,
        "select email, first_name, time_zone, updated_at from analytics.profiles "
        "where profile_id = 'alice'",
    ) == [("alice@example.com", "Alicia", "America/New_York", ts("2024-05-01 00:00:00"))]


def test_profile_values(built_warehouse: tuple[Path, Path]) -> None:
    warehouse, _ = built_warehouse
    rows = query(
        warehouse,
        """
        select profile_id, orders_count, lifetime_value, email_consent, sms_consent,
               is_email_valid, is_email_suppressed, is_email_reachable, is_sms_reachable,
               time_zone, rfm_segment
        from analytics.profiles order by profile_id
        """,
    )
    # RFM among the four customers: recency carol < erin < alice < dave; frequency ties
    # (carol, dave: 1 order; alice, erin: 2) share the lower score.
    assert rows == [
        # the duplicated order a2 counts once: 400 + 250
        (
            "alice",
            2,
            Decimal("650.00"),
            "granted",
            "never_asked",
            True,
            False,
            True,
            False,
            "America/New_York",
            "needs_attention",
        ),
        # invalid email, unknown time zone
        (
            "bob",
            0,
            Decimal("0.00"),
            "granted",
            "never_asked",
            False,
            False,
            False,
            False,
            "UTC",
            "prospects",
        ),
        (
            "carol",
            1,
            Decimal("40.00"),
            "withdrawn",
            "never_asked",
            True,
            False,
            False,
            False,
            "UTC",
            "hibernating",
        ),
        # hard bounce on an address reported in another case
        (
            "dave",
            1,
            Decimal("120.00"),
            "granted",
            "never_asked",
            True,
            True,
            False,
            False,
            "America/New_York",
            "new",
        ),
        (
            "erin",
            2,
            Decimal("400.00"),
            "never_asked",
            "granted",
            True,
            False,
            False,
            True,
            "UTC",
            "at_risk",
        ),
        # no email at all
        (
            "frank",
            0,
            Decimal("0.00"),
            "never_asked",
            "granted",
            False,
            False,
            False,
            True,
            "UTC",
            "prospects",
        ),
    ]
    assert query(
        warehouse,
        "select email_sends_90d, email_opens_90d, email_clicks_90d, last_email_open_at, "
        "days_since_last_order from analytics.profiles where profile_id = 'alice'",
    ) == [(1, 1, 0, ts("2024-05-29 11:00:00"), 12)]


def test_every_model_states_its_grain_and_documents_every_column(
    built_warehouse: tuple[Path, Path],
) -> None:
    warehouse, work = built_warehouse
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    columns_in_warehouse: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for schema, table, column in query(
        warehouse, "select table_schema, table_name, column_name from information_schema.columns"
    ):
        columns_in_warehouse[(schema, table)].add(column)
    documented = [
        *(n for n in manifest["nodes"].values() if n["resource_type"] == "model"),
        *manifest["sources"].values(),
    ]
    for node in documented:
        relation = (node["schema"], node.get("alias") or node["identifier"])
        assert node["description"].strip(), f"{node['unique_id']} has no description"
        if node["resource_type"] == "model":
            assert "one row per" in node["description"].lower(), f"{node['unique_id']}: no grain"
        assert set(node["columns"]) == columns_in_warehouse[relation], node["unique_id"]
        undocumented = [c for c, spec in node["columns"].items() if not spec["description"].strip()]
        assert not undocumented, (node["unique_id"], undocumented)


def test_suppressions(built_warehouse: tuple[Path, Path]) -> None:
    warehouse, _ = built_warehouse
    assert query(
        warehouse,
        "select channel, address, reason, suppressed_at, profile_id "
        "from analytics.suppressions order by address",
    ) == [
        ("email", "dave@example.com", "hard_bounce", ts("2024-04-01 09:01:00"), "dave"),
        ("email", "stranger@example.org", "complaint", ts("2024-05-15 09:00:00"), None),
    ]


def test_the_engine_can_discover_segments_from_the_manifest(
    built_warehouse: tuple[Path, Path],
) -> None:
    _, work = built_warehouse
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    segments = {
        node["name"]: node["config"]["meta"]["tidemark"]["segment"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and "segment" in node["config"].get("meta", {}).get("tidemark", {})
    }
    assert set(segments) == {
        "segment_new_subscribers_7d",
        "segment_cart_abandoners_24h",
        "segment_lapsed_customers_90d",
        "segment_high_value",
    }
    for name, segment in segments.items():
        assert {"label", "description", "owner", "channels"} <= set(segment), name
        node = manifest["nodes"][f"model.tidemark.{name}"]
        assert node["config"]["contract"]["enforced"], name
        assert node["schema"] == "analytics"
        channel_columns = {"email": "email", "sms": "phone"}
        for channel in segment["channels"]:
            assert channel_columns[channel] in node["columns"], (name, channel)


def test_incremental_load_adds_new_rows_without_duplicates(
    built_warehouse: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse, work = built_warehouse
    before = dict(query(warehouse, "select event_id, loaded_at from analytics.events"))
    land(
        warehouse,
        "events",
        THIRD_BATCH_EVENTS,
        landing_key="events/3",
        loaded_at="2024-06-01 13:00:00",
    )
    land(
        warehouse,
        "message_events",
        THIRD_BATCH_MESSAGE_EVENTS,
        landing_key="messages/2",
        loaded_at="2024-06-01 13:00:00",
    )

    result = run_dbt_build(
        warehouse,
        work,
        monkeypatch,
        dbt_vars={"as_of": AS_OF},
        extra_args=["--exclude-resource-type", "unit_test"],
    )
    assert result.success, failures(result)

    after = dict(query(warehouse, "select event_id, loaded_at from analytics.events"))
    assert query(warehouse, "select count(*) - count(distinct event_id) from analytics.events") == [
        (0,)
    ]
    assert set(after) == set(before) | {"b2"}
    # the re-delivered copy replaced the stored one; untouched events kept their row
    assert after["a1"] == ts("2024-06-01 13:00:00")
    assert after["e1"] == before["e1"]
    assert query(
        warehouse,
        "select count(*), count(distinct message_event_id) from analytics.message_events",
    ) == [(7, 7)]
    # bob ordered after his cart: no longer an abandoner, now a customer
    assert ids(warehouse, "analytics.segment_cart_abandoners_24h") == {"frank"}
    assert query(
        warehouse,
        "select orders_count, lifetime_value from analytics.profiles where profile_id = 'bob'",
    ) == [(1, Decimal("35.50"))]
    assert query(
        warehouse,
        "select lifetime_value, email_clicks_90d from analytics.profiles "
        "where profile_id = 'alice'",
    ) == [(Decimal("650.00"), 1)]

    # A file loaded at the very instant of the newest processed load still counts as new: the
    # marts skip only landing files they already hold, never a whole timestamp.
    land(
        warehouse,
        "events",
        [event("c9", "carol", "page_view", "2024-06-01 11:30:00")],
        landing_key="events/4",
        loaded_at="2024-06-01 13:00:00",
    )
    result = run_dbt_build(
        warehouse,
        work,
        monkeypatch,
        dbt_vars={"as_of": AS_OF},
        extra_args=["--select", "events"],
    )
    assert result.success, failures(result)
    assert query(warehouse, "select landing_key from analytics.events where event_id = 'c9'") == [
        ("events/4",)
    ]
    assert query(warehouse, "select count(*) - count(distinct event_id) from analytics.events") == [
        (0,)
    ]

    # Profiles: only those with a version from an unseen load are re-ranked, over all their
    # versions. Carol changes her name; alice's oldest version is delivered yet again and must
    # still lose; erin's row, from loads the model holds, stays as it was.
    erin_before = query(
        warehouse, "select * from intermediate.int_profiles_deduplicated where profile_id = 'erin'"
    )
    [(alice_versions,)] = query(
        warehouse,
        "select versions_count from intermediate.int_profiles_deduplicated "
        "where profile_id = 'alice'",
    )
    land(
        warehouse,
        "profiles",
        [
            profile("carol", "2024-06-01 12:30:00", email="carol@example.com", first_name="Caro"),
            FIRST_BATCH_PROFILES[0],
        ],
        landing_key="profiles/3",
        loaded_at="2024-06-01 13:00:00",
    )
    result = run_dbt_build(
        warehouse,
        work,
        monkeypatch,
        dbt_vars={"as_of": AS_OF},
        extra_args=["--select", "int_profiles_deduplicated"],
    )
    assert result.success, failures(result)
    assert query(
        warehouse,
        "select profile_id, first_name, versions_count, landing_key "
        "from intermediate.int_profiles_deduplicated "
        "where profile_id in ('alice', 'carol') order by profile_id",
    ) == [("alice", "Alicia", alice_versions + 1, "profiles/2"), ("carol", "Caro", 2, "profiles/3")]
    assert (
        query(
            warehouse,
            "select * from intermediate.int_profiles_deduplicated where profile_id = 'erin'",
        )
        == erin_before
    )
    assert query(
        warehouse,
        "select count(*) - count(distinct profile_id) from intermediate.int_profiles_deduplicated",
    ) == [(0,)]


def test_a_malformed_as_of_is_rejected_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    create_warehouse(warehouse)
    result = run_dbt_build(warehouse, tmp_path, monkeypatch, dbt_vars={"as_of": "last tuesday"})
    assert not result.success
    assert "var 'as_of' must be a UTC timestamp" in "\n".join(failures(result))
    assert "last tuesday" in "\n".join(failures(result))


# --- jaffle-shop classic ----------------------------------------------------------------------


def read_csv(name: str) -> list[dict[str, str]]:
    with (JAFFLE_SHOP_DIR / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_jaffle_shop_lifetime_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Customers become profiles, orders + payments become order events; LTV = payments / 100."""
    warehouse = tmp_path / "warehouse.duckdb"
    create_warehouse(warehouse)
    customers = str(JAFFLE_SHOP_DIR / "raw_customers.csv")
    orders = str(JAFFLE_SHOP_DIR / "raw_orders.csv")
    payments = str(JAFFLE_SHOP_DIR / "raw_payments.csv")
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            """
            insert into raw.profiles (profile_id, first_name, last_name, created_at, updated_at,
                                      source, _landing_key, _loaded_at)
            select cast(id as varchar), first_name, last_name, timestamp '2018-01-01',
                   timestamp '2018-01-01', 'jaffle_shop', 'jaffle/customers', timestamp '2024-06-01'
            from read_csv(?, header = true)
            """,
            [customers],
        )
        connection.execute(
            """
            insert into raw.events (event_id, profile_id, event_type, occurred_at, order_id,
                                    revenue, source, _landing_key, _loaded_at)
            select 'order-' || o.id, cast(o.user_id as varchar), 'order',
                   cast(o.order_date as timestamp), cast(o.id as varchar),
                   coalesce(sum(p.amount), 0) / 100.0, 'jaffle_shop', 'jaffle/orders',
                   timestamp '2024-06-01'
            from read_csv(?, header = true) as o
            left join read_csv(?, header = true) as p on p.order_id = o.id
            group by o.id, o.user_id, o.order_date
            """,
            [orders, payments],
        )

    # No as_of: windows are measured from the current UTC time (the production default).
    result = run_dbt_build(warehouse, tmp_path, monkeypatch, dbt_vars={})
    assert result.success, failures(result)

    customer_of_order = {row["id"]: row["user_id"] for row in read_csv("raw_orders.csv")}
    expected: dict[str, Decimal] = {
        row["id"]: Decimal("0.00") for row in read_csv("raw_customers.csv")
    }
    for payment in read_csv("raw_payments.csv"):
        expected[customer_of_order[payment["order_id"]]] += Decimal(payment["amount"]) / 100
    actual = dict(query(warehouse, "select profile_id, lifetime_value from analytics.profiles"))
    assert actual == expected
    assert len(actual) == 100
    orders_per_customer: defaultdict[str, int] = defaultdict(int)
    for row in read_csv("raw_orders.csv"):
        orders_per_customer[row["user_id"]] += 1
    assert dict(
        query(
            warehouse,
            "select profile_id, orders_count from analytics.profiles where orders_count > 0",
        )
    ) == dict(orders_per_customer)
    # every jaffle order (2018) is years before now: every customer is lapsed
    assert ids(warehouse, "analytics.segment_lapsed_customers_90d") == set(orders_per_customer)
