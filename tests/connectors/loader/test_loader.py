"""The loader: every landing file into `raw` exactly once; bad files quarantined, never blocking."""

import multiprocessing
import threading
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.landing import LocalLandingZone, new_batch_key
from connectors.loader import load_landing_files, pending_files
from connectors.raw_schemas import CONSENT_EVENTS, EVENTS
from connectors.warehouse.duckdb import DuckDBWarehouse

NOW = datetime(2026, 11, 27, 12, 0)


def events_table(first_id: int, count: int, **overrides) -> pa.Table:
    columns = {
        "event_id": [f"e{first_id + i}" for i in range(count)],
        "profile_id": [f"p{i % 7}" for i in range(count)],
        "event_type": ["page_view"] * count,
        "occurred_at": [NOW - timedelta(hours=i) for i in range(count)],
        "product_id": [None] * count,
        "order_id": [None] * count,
        "revenue": [None] * count,
        "quantity": [None] * count,
        "source": ["test"] * count,
    }
    columns.update(overrides)
    return pa.table(columns, schema=EVENTS.schema)


@pytest.fixture
def landing(tmp_path):
    return LocalLandingZone(tmp_path / "landing")


@pytest.fixture
def warehouse(tmp_path):
    return DuckDBWarehouse(tmp_path / "warehouse.duckdb", lock_timeout_s=30)


def raw_count(warehouse, table="events"):
    return warehouse.scalar(f"select count(*) from raw.{table}")


def test_each_file_is_loaded_exactly_once(landing, warehouse):
    first = landing.write_table("events", events_table(0, 10))
    landing.write_table("events", events_table(10, 5))

    report = load_landing_files(landing, warehouse, now=NOW)
    assert report.rows_by_dataset() == {"events": 15}
    again = load_landing_files(landing, warehouse, now=NOW)
    # The same file offered again, explicitly, is skipped too.
    explicit = load_landing_files(landing, warehouse, keys=[first.key], now=NOW)

    assert again.outcomes == [] and explicit.outcomes == []
    assert raw_count(warehouse) == 15
    assert warehouse.scalar("select count(*) from raw._loaded_files") == 2
    traced = warehouse.scalar("select count(*) from raw.events where _landing_key = ?", [first.key])
    assert traced == 10


def test_concurrent_loaders_in_one_process_load_each_file_once(landing, warehouse):
    for batch in range(6):
        landing.write_table("events", events_table(batch * 100, 50))
    reports = []
    threads = [
        threading.Thread(
            target=lambda: reports.append(load_landing_files(landing, warehouse, now=NOW))
        )
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    loaded = [o.key for r in reports for o in r.with_status("loaded")]
    assert sorted(loaded) == sorted(f.key for f in landing.list())
    assert raw_count(warehouse) == 300
    assert warehouse.scalar("select count(distinct event_id) from raw.events") == 300


def _load_in_subprocess(landing_root, warehouse_path, results):
    report = load_landing_files(
        LocalLandingZone(landing_root), DuckDBWarehouse(warehouse_path, lock_timeout_s=60), now=NOW
    )
    results.put(len(report.with_status("loaded")))


def test_concurrent_loader_processes_load_each_file_once(landing, warehouse):
    for batch in range(4):
        landing.write_table("events", events_table(batch * 100, 25))
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [
        context.Process(target=_load_in_subprocess, args=(landing.root, warehouse.path, results))
        for _ in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
        assert w.exitcode == 0

    assert results.get(timeout=5) + results.get(timeout=5) == 4
    assert raw_count(warehouse) == 100


def test_corrupt_file_is_quarantined_and_the_others_load(landing, warehouse):
    good_before = landing.write_table("events", events_table(0, 3))
    corrupt = landing.put(new_batch_key("events"), b"PAR1 this is not parquet")
    good_after = landing.write_table("events", events_table(3, 4))

    report = load_landing_files(landing, warehouse, now=NOW)

    assert {o.key for o in report.with_status("loaded")} == {good_before.key, good_after.key}
    [rejected] = report.with_status("quarantined")
    assert rejected.key == corrupt.key
    assert "not a readable Parquet file" in rejected.reason
    assert raw_count(warehouse) == 7
    assert corrupt.key not in {f.key for f in landing.list()}
    [note] = landing.quarantined()
    assert note.key == corrupt.key and "Parquet" in note.reason


def _write_raw_parquet(landing, dataset, table):
    import io

    sink = io.BytesIO()
    pq.write_table(table, sink)
    return landing.put(new_batch_key(dataset), sink.getvalue())


@pytest.mark.parametrize(
    ("table", "expected_reason"),
    [
        (events_table(0, 2).drop_columns(["source"]), "missing columns ['source']"),
        (
            events_table(0, 2).append_column("surprise", pa.array([1, 2])),
            "unexpected columns ['surprise']",
        ),
        (
            events_table(0, 2).set_column(3, "occurred_at", pa.array(["yesterday", "today"])),
            "column 'occurred_at' has type string",
        ),
        (
            events_table(0, 2).set_column(
                0, pa.field("event_id", pa.string()), pa.array([None, "e1"], pa.string())
            ),
            "column 'event_id' must not be null",
        ),
        (
            events_table(0, 2, occurred_at=[NOW + timedelta(days=400), NOW]),
            "expect_column_max_to_be_between on 'occurred_at'",
        ),
        (
            events_table(0, 2, occurred_at=[datetime(1970, 1, 1), NOW]),
            "expect_column_min_to_be_between on 'occurred_at'",
        ),
    ],
    ids=["missing", "unexpected", "wrong-type", "null-id", "future", "epoch-zero"],
)
def test_schema_and_expectation_violations_are_quarantined_with_the_reason(
    landing, warehouse, table, expected_reason
):
    bad = _write_raw_parquet(landing, "events", table)
    good = landing.write_table("events", events_table(10, 2))

    report = load_landing_files(landing, warehouse, now=NOW)

    [rejected] = report.with_status("quarantined")
    assert rejected.key == bad.key
    assert expected_reason in rejected.reason
    assert [o.key for o in report.with_status("loaded")] == [good.key]
    assert raw_count(warehouse) == 2


def test_closed_vocabularies_are_enforced(landing, warehouse):
    consent = pa.table(
        {
            "consent_event_id": ["c1", "c2"],
            "profile_id": ["p1", "p2"],
            "channel": ["email", "carrier_pigeon"],
            "status": ["granted", "granted"],
            "occurred_at": [NOW, NOW],
            "source": ["test", "test"],
        },
        schema=CONSENT_EVENTS.schema,
    )
    landing.write_table("consent_events", consent)
    [outcome] = load_landing_files(landing, warehouse, now=NOW).outcomes
    assert outcome.status == "quarantined"
    assert "carrier_pigeon" in outcome.reason


def test_lenient_but_lossless_casts_are_accepted(landing, warehouse):
    table = events_table(0, 2)
    zoned = table.set_column(
        3,
        "occurred_at",
        pa.array([datetime(2026, 1, 1, 12), datetime(2026, 1, 1, 13)], pa.timestamp("ms", "UTC")),
    )
    reordered = zoned.select(list(reversed(zoned.column_names)))
    _write_raw_parquet(landing, "events", reordered)

    report = load_landing_files(landing, warehouse, now=NOW)

    assert report.rows_by_dataset() == {"events": 2}
    first = warehouse.scalar("select min(occurred_at) from raw.events")
    assert first == datetime(2026, 1, 1, 12)


def test_pending_files_lists_only_what_is_not_loaded(landing, warehouse):
    loaded = landing.write_table("events", events_table(0, 1))
    load_landing_files(landing, warehouse, now=NOW)
    waiting = landing.write_table("events", events_table(1, 1))
    assert [f.key for f in pending_files(landing, warehouse)] == [waiting.key]
    assert loaded.key != waiting.key
