"""Landing files into `raw` exactly once, on every engine, with the loader production uses."""

from collections import Counter
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.landing import LocalLandingZone, new_batch_key
from connectors.loader import load_landing_files
from connectors.loader.load import ensure_raw_tables
from connectors.raw_schemas import DATASETS
from connectors.sources.demo_data import write_demo_data

NOW = datetime(2026, 11, 27, 12, 0)


def landed_rows(landing: LocalLandingZone) -> Counter[str]:
    rows: Counter[str] = Counter()
    for file in landing.list():
        rows[file.dataset] += pq.read_metadata(pa.BufferReader(landing.read(file.key))).num_rows
    return rows


def test_demo_data_loads_exactly_once_and_reads_back_unchanged(tmp_path, any_warehouse):
    landing = LocalLandingZone(tmp_path / "landing")
    write_demo_data(landing, 40, seed=7, now=NOW)
    expected = landed_rows(landing)

    first = load_landing_files(landing, any_warehouse, now=NOW)
    again = load_landing_files(landing, any_warehouse, now=NOW)

    assert first.rows_by_dataset() == dict(expected)
    assert again.outcomes == []
    for dataset, rows in expected.items():
        assert any_warehouse.scalar(f"select count(*) from raw.{dataset}") == rows
        assert any_warehouse.scalar(
            f"select count(distinct _landing_key) from raw.{dataset}"
        ) == len(landing.list(dataset))
    manifest = any_warehouse.query_arrow(
        "select dataset, sum(row_count) as row_count from raw._loaded_files group by dataset"
    )
    assert dict(zip(*manifest.to_pydict().values(), strict=True)) == dict(expected)
    # The events read back equal what landed, values and timestamps alike.
    [events_file] = landing.list("events")
    landed = pq.read_table(pa.BufferReader(landing.read(events_file.key))).sort_by("event_id")
    columns = ", ".join(c for c in landed.column_names if c not in ("revenue", "order_id"))
    stored = any_warehouse.query_arrow(f"select {columns} from raw.events order by event_id")
    assert stored.to_pylist() == landed.select(stored.column_names).to_pylist()


def test_raw_bootstrap_is_idempotent(any_warehouse):
    ensure_raw_tables(any_warehouse)
    ensure_raw_tables(any_warehouse)

    for name in (*DATASETS, "_loaded_files"):
        assert any_warehouse.table_exists("raw", name)
    assert any_warehouse.scalar("select count(*) from raw.events") == 0


def test_a_bad_file_is_quarantined_and_the_rest_load(tmp_path, any_warehouse):
    landing = LocalLandingZone(tmp_path / "landing")
    write_demo_data(landing, 12, seed=3, now=NOW)
    expected = landed_rows(landing)
    corrupt = landing.put(new_batch_key("events"), b"PAR1 this is not parquet")

    report = load_landing_files(landing, any_warehouse, now=NOW)

    assert [o.key for o in report.with_status("quarantined")] == [corrupt.key]
    assert report.rows_by_dataset() == dict(expected)
    assert any_warehouse.scalar("select count(*) from raw.events") == expected["events"]
