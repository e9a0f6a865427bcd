"""One conformance suite for every landing zone: a local folder and S3 (moto's real server).

The loader and the ingest API only know `LandingZone`; whichever implementation is configured
must behave the same, so every behaviour here runs against each of them.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.landing import LandingZone, LocalLandingZone, new_batch_key, open_landing_zone
from connectors.landing.base import QUARANTINE_PREFIX
from connectors.landing.s3 import CorruptUploadError, S3LandingZone
from connectors.raw_schemas import PROFILES
from connectors.settings import Settings
from tests.fixtures.s3_server import S3TestBucket
from tests.fixtures.shared_payloads import JAFFLE_SHOP

JAFFLE_CUSTOMERS = JAFFLE_SHOP / "raw_customers.csv"
DAY_ONE = datetime(2025, 3, 1, 23, 59, 58, tzinfo=UTC)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def zone(request: pytest.FixtureRequest, tmp_path: Path) -> LandingZone:
    if request.param == "local":
        return LocalLandingZone(tmp_path / "landing")
    bucket: S3TestBucket = request.getfixturevalue("s3_bucket")
    return S3LandingZone.from_url(
        f"s3://{bucket.name}/tidemark/landing",
        endpoint_url=bucket.endpoint_url,
        region=bucket.region,
    )


def jaffle_profiles() -> pa.Table:
    """The jaffle-shop customers as a `profiles` batch, typed exactly as the contract says."""
    with JAFFLE_CUSTOMERS.open(newline="") as handle:
        customers = list(csv.DictReader(handle))
    created = datetime(2024, 1, 1)  # naive: landing timestamps are UTC without a zone
    rows: dict[str, list[Any]] = {name: [] for name in PROFILES.schema.names}
    for customer in customers:
        rows["profile_id"].append(f"jaffle-{customer['id']}")
        rows["email"].append(f"{customer['first_name'].lower()}.{customer['id']}@example.com")
        rows["phone"].append(None)
        rows["first_name"].append(customer["first_name"])
        rows["last_name"].append(customer["last_name"])
        rows["country"].append("US")
        rows["time_zone"].append("America/Chicago")
        rows["created_at"].append(created)
        rows["updated_at"].append(created + timedelta(days=int(customer["id"])))
        rows["source"].append("jaffle_shop")
    return pa.Table.from_pydict(rows, schema=PROFILES.schema)


def test_put_then_read_returns_the_same_bytes(zone: LandingZone) -> None:
    key = new_batch_key("events", suffix=".json")
    payload = json.dumps({"event_id": "e1", "event_type": "page_view"}).encode()
    written = zone.put(key, payload)
    assert (written.key, written.size, written.dataset) == (key, len(payload), "events")
    assert zone.read(key) == payload
    assert zone.list() == [written]


def test_reading_a_missing_file_says_so(zone: LandingZone) -> None:
    with pytest.raises(FileNotFoundError):
        zone.read("events/dt=2025-03-01/nothing-here.parquet")


def test_list_is_in_arrival_order_across_datasets_and_days(zone: LandingZone) -> None:
    # Written out of order, across a day boundary and two datasets.
    arrivals = [DAY_ONE + timedelta(seconds=s) for s in (0, 1, 2, 3)]
    keys = {
        2: new_batch_key("events", now=arrivals[2]),
        0: new_batch_key("profiles", now=arrivals[0]),
        3: new_batch_key("events", now=arrivals[3]),
        1: new_batch_key("events", now=arrivals[1]),
    }
    for key in keys.values():
        zone.put(key, b"batch")
    assert [f.key for f in zone.list()] == [keys[n] for n in range(4)]
    assert [f.key for f in zone.list("events")] == [keys[1], keys[2], keys[3]]
    assert [f.key for f in zone.list("profiles")] == [keys[0]]
    assert zone.list("consent_events") == []


def test_quarantine_moves_the_file_aside_and_keeps_the_reason(zone: LandingZone) -> None:
    bad = zone.put(new_batch_key("events", now=DAY_ONE), b"not parquet at all")
    good = zone.put(new_batch_key("events", now=DAY_ONE + timedelta(seconds=1)), b"fine")

    zone.quarantine(bad.key, "column occurred_at missing")

    assert zone.list() == [good]  # a quarantined file is not listed, the next one still is
    (set_aside,) = zone.quarantined()
    assert (set_aside.key, set_aside.reason) == (bad.key, "column occurred_at missing")
    assert datetime.fromisoformat(set_aside.quarantined_at).tzinfo is not None
    assert zone.read(QUARANTINE_PREFIX + bad.key) == b"not parquet at all"
    with pytest.raises(FileNotFoundError):
        zone.read(bad.key)


def test_quarantining_a_missing_file_is_refused(zone: LandingZone) -> None:
    with pytest.raises(FileNotFoundError):
        zone.quarantine("events/dt=2025-03-01/never-written.parquet", "bad")
    assert zone.quarantined() == []


def test_unknown_dataset_is_refused_before_anything_is_written(zone: LandingZone) -> None:
    with pytest.raises(KeyError, match=r"unknown landing dataset 'orderz'.*known datasets"):
        new_batch_key("orderz")
    with pytest.raises(KeyError, match="unknown landing dataset 'orderz'"):
        zone.write_table("orderz", jaffle_profiles())
    assert zone.list() == []


@pytest.mark.parametrize(
    "key", ["../outside.parquet", "events/../../outside.parquet", "/etc/outside.parquet"]
)
def test_keys_escaping_the_zone_are_refused(zone: LandingZone, key: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="escapes the landing zone"):
        zone.put(key, b"x")
    assert zone.list() == []
    assert not (tmp_path / "outside.parquet").exists()


def test_write_table_lands_parquet_with_the_same_rows(zone: LandingZone) -> None:
    table = jaffle_profiles()
    written = zone.write_table("profiles", table)
    assert written.dataset == "profiles" and written.key.endswith(".parquet")
    landed = pq.read_table(io.BytesIO(zone.read(written.key)))
    assert landed.schema.equals(PROFILES.schema)
    assert landed.num_rows == 100
    assert landed.to_pylist() == table.to_pylist()


# --- local only -------------------------------------------------------------------------


def test_local_crash_mid_write_never_shows_a_partial_file(tmp_path: Path) -> None:
    zone = LocalLandingZone(tmp_path / "landing")
    key = new_batch_key("events", now=DAY_ONE)
    folder = tmp_path / "landing" / key.rsplit("/", 1)[0]
    folder.mkdir(parents=True)
    # What a writer killed between write and rename leaves behind.
    (folder / f".tmp-0123456789abcdef-{key.rsplit('/', 1)[1]}").write_bytes(b"PAR1\x15\x04half")
    assert zone.list() == []
    written = zone.put(key, b"whole batch")
    assert zone.list() == [written]


# --- S3 only ----------------------------------------------------------------------------


@pytest.mark.s3
def test_s3_refuses_an_upload_corrupted_on_the_way(s3_bucket: S3TestBucket) -> None:
    zone = S3LandingZone.from_url(
        f"s3://{s3_bucket.name}/landing",
        endpoint_url=s3_bucket.endpoint_url,
        region=s3_bucket.region,
    )

    def flip_a_byte(request: Any, **_: Any) -> None:
        # After our Content-MD5 was computed: the network (or a proxy) damages the body.
        body = request.body.read()
        request.body = io.BytesIO(body[:-1] + bytes([body[-1] ^ 0xFF]))

    zone.client.meta.events.register("before-send.s3.PutObject", flip_a_byte)
    key = new_batch_key("events")
    with pytest.raises(CorruptUploadError, match="checksum mismatch"):
        zone.put(key, b"an honest batch of events")
    assert zone.list() == []


@pytest.mark.s3
def test_s3_lists_every_page(s3_bucket: S3TestBucket) -> None:
    zone = S3LandingZone(s3_bucket.name, "landing", s3_bucket.client, list_page_size=2)
    keys = [new_batch_key("events", now=DAY_ONE + timedelta(seconds=s)) for s in range(5)]
    for key in reversed(keys):
        zone.put(key, b"batch")
    assert [f.key for f in zone.list()] == keys


@pytest.mark.s3
def test_s3_zone_from_settings_describes_itself_without_credentials(
    s3_bucket: S3TestBucket,
) -> None:
    settings = Settings(
        landing_url=f"s3://{s3_bucket.name}/prod/landing",
        s3_endpoint_url=s3_bucket.endpoint_url,
        s3_region=s3_bucket.region,
    )
    zone = open_landing_zone(settings)
    assert isinstance(zone, S3LandingZone)
    description = zone.describe()
    assert description.startswith(f"s3://{s3_bucket.name}/prod/landing/ at http://127.0.0.1:")
    assert "testing" not in description  # the dummy access key and secret
    zone.put(new_batch_key("profiles"), b"x")
    listed = s3_bucket.client.list_objects_v2(Bucket=s3_bucket.name)["Contents"]
    assert [item["Key"].split("/")[:3] for item in listed] == [["prod", "landing", "profiles"]]


def test_s3_url_must_name_a_bucket() -> None:
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        S3LandingZone.from_url("s3:///just-a-prefix")
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        S3LandingZone.from_url("https://bucket.s3.amazonaws.com/prefix")
