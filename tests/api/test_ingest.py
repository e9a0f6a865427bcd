"""Ingest API: records validated one by one, landed durably, then loaded by the real loader."""

from __future__ import annotations

import json

import pytest

from api.routes.ingest import MAX_BODY_BYTES, MAX_RECORDS
from connectors.landing.s3 import S3LandingZone
from connectors.loader import load_landing_files
from connectors.loader.conform import read_parquet
from connectors.warehouse.duckdb import DuckDBWarehouse
from tests.api.intake import intake_app


def event(n: int, **changes):
    record = {
        "event_id": f"evt-{n}",
        "profile_id": f"p-{n % 7}",
        "event_type": "page_view",
        "occurred_at": "2026-11-01T10:00:00Z",
    }
    record.update(changes)
    return record


def profile(n: int, **changes):
    record = {
        "profile_id": f"p-{n}",
        "email": f"person{n}@example.com",
        "first_name": "Ana",
        "time_zone": "Europe/Lisbon",
        "created_at": "2026-01-01T00:00:00+01:00",
        "updated_at": "2026-11-01T12:00:00",
    }
    record.update(changes)
    return record


@pytest.fixture
def intake(tmp_path):
    return intake_app(tmp_path)


def test_a_good_batch_is_in_the_landing_zone_when_accepted_and_loads_into_raw(intake, tmp_path):
    response = intake.client.post(
        "/api/v1/events",
        json={"records": [event(n, revenue=9.5, quantity=2) for n in range(500)]},
        headers=intake.headers["marketer"],
    )

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["accepted"] == 500 and body["rejected"] == 0 and body["errors"] == []
    assert [f.key for f in intake.landing.list("events")] == [body["landing_key"]]

    warehouse = DuckDBWarehouse(tmp_path / "check.duckdb")
    report = load_landing_files(intake.landing, warehouse)
    assert report.rows_by_dataset() == {"events": 500}
    row = warehouse.query_arrow(
        "select profile_id, occurred_at::varchar as at, revenue, quantity, source "
        "from raw.events where event_id = 'evt-8'"
    ).to_pylist()
    assert row == [
        {
            "profile_id": "p-1",
            "at": "2026-11-01 10:00:00",
            "revenue": 9.5,
            "quantity": 2,
            "source": "api",
        }
    ]


def test_bad_records_are_reported_by_index_and_field_and_the_good_ones_still_land(intake):
    records = [
        event(0),
        event(1, occurred_at="yesterday"),
        event(2, event_type=None),
        event(3, colour="blue"),
        event(4, quantity=1.5),
        event(5, occurred_at="1999-12-31T23:00:00Z"),
        event(6, occurred_at="2999-01-01T00:00:00Z"),
        "not an object",
        event(8, profile_id=""),
        event(9, source="shopify"),
    ]

    response = intake.client.post(
        "/api/v1/events", json={"records": records}, headers=intake.headers["marketer"]
    )

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["accepted"] == 2 and body["rejected"] == 8
    problems = {e["index"]: (e["field"], e["message"]) for e in body["errors"]}
    assert problems == {
        1: ("occurred_at", "is not an ISO 8601 timestamp: 'yesterday'"),
        2: ("event_type", "is required"),
        3: (
            "colour",
            "is not a field of events (fields: event_id, profile_id, event_type, occurred_at, "
            "product_id, order_id, revenue, quantity, source)",
        ),
        4: ("quantity", "must be a whole number"),
        5: ("occurred_at", "is before 2000-01-01"),
        6: ("occurred_at", "is more than a day in the future (a time-zone or unit bug?)"),
        7: (None, "a record must be a JSON object, got str"),
        8: ("profile_id", "must not be empty"),
    }
    landed = read_parquet(intake.landing.read(body["landing_key"]))
    assert landed.column("event_id").to_pylist() == ["evt-0", "evt-9"]
    assert landed.column("source").to_pylist() == ["api", "shopify"]


def test_profiles_land_with_zoned_timestamps_in_utc(intake, tmp_path):
    response = intake.client.post(
        "/api/v1/profiles",
        json={"records": [profile(1), profile(2, email=None)]},
        headers=intake.headers["admin"],
    )

    assert response.status_code == 202, response.text
    warehouse = DuckDBWarehouse(tmp_path / "check.duckdb")
    load_landing_files(intake.landing, warehouse)
    rows = warehouse.query_arrow(
        "select profile_id, email, created_at::varchar as created from raw.profiles "
        "order by profile_id"
    ).to_pylist()
    assert rows == [
        {"profile_id": "p-1", "email": "person1@example.com", "created": "2025-12-31 23:00:00"},
        {"profile_id": "p-2", "email": None, "created": "2025-12-31 23:00:00"},
    ]


def test_a_batch_with_no_valid_record_writes_nothing(intake):
    response = intake.client.post(
        "/api/v1/profiles",
        json={"records": [profile(1, created_at=None), {"profile_id": 3}]},
        headers=intake.headers["marketer"],
    )

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["message"] == "no record in the batch is valid; nothing was written"
    assert [(e["index"], e["field"]) for e in detail["errors"]] == [
        (0, "created_at"),
        (1, "profile_id"),
    ]
    assert intake.landing.list() == []


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "request body is not valid JSON: Expecting property name"),
        (b'[{"event_id": "e"}]', 422, 'one field, "records"'),
        (b'{"records": [], "extra": 1}', 422, 'one field, "records"'),
        (b'{"records": {"event_id": "e"}}', 422, '"records" must be a list'),
        (b'{"records": []}', 422, '"records" is empty'),
    ],
)
def test_malformed_bodies_get_a_4xx_naming_the_problem(intake, body, status, message):
    response = intake.client.post(
        "/api/v1/events",
        content=body,
        headers={**intake.headers["marketer"], "Content-Type": "application/json"},
    )
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert intake.landing.list() == []


def test_batch_and_body_limits_answer_413_with_the_limit(intake):
    too_many = {"records": [event(n) for n in range(MAX_RECORDS + 1)]}
    response = intake.client.post(
        "/api/v1/events", json=too_many, headers=intake.headers["marketer"]
    )
    assert response.status_code == 413
    assert f"the limit is {MAX_RECORDS} per batch" in response.json()["detail"]

    padding = "x" * 5000
    records = [event(n, product_id=padding) for n in range(MAX_BODY_BYTES // 5000 + 10)]
    response = intake.client.post(
        "/api/v1/events",
        content=json.dumps({"records": records}),
        headers={**intake.headers["marketer"], "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert f"limit of {MAX_BODY_BYTES} bytes" in response.json()["detail"]
    assert intake.landing.list() == []


def test_a_chunked_body_is_counted_as_it_streams(intake):
    def chunks():
        yield b'{"records": ['
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536
        yield b"]}"

    response = intake.client.post(
        "/api/v1/events",
        content=chunks(),
        headers={**intake.headers["marketer"], "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert intake.landing.list() == []


def test_viewers_and_strangers_cannot_ingest(intake):
    batch = {"records": [event(1)]}
    assert intake.client.post("/api/v1/events", json=batch).status_code == 401
    viewer = intake.client.post("/api/v1/events", json=batch, headers=intake.headers["viewer"])
    assert viewer.status_code == 403
    assert intake.landing.list() == []


def test_a_retried_batch_lands_again_but_each_event_id_loads_as_the_same_row(intake, tmp_path):
    batch = {"records": [event(n) for n in range(20)]}
    first = intake.client.post("/api/v1/events", json=batch, headers=intake.headers["marketer"])
    again = intake.client.post("/api/v1/events", json=batch, headers=intake.headers["marketer"])
    assert first.status_code == again.status_code == 202
    assert first.json()["landing_key"] != again.json()["landing_key"]

    warehouse = DuckDBWarehouse(tmp_path / "check.duckdb")
    load_landing_files(intake.landing, warehouse)
    counts = warehouse.query_arrow(
        "select count(*) as n, count(distinct event_id) as ids, "
        "count(distinct (event_id, profile_id, event_type, occurred_at)) as versions "
        "from raw.events"
    ).to_pylist()
    # The events mart keeps one row per event_id; both copies are the same event.
    assert counts == [{"n": 40, "ids": 20, "versions": 20}]


def test_batches_land_in_an_s3_landing_zone_before_the_answer(tmp_path, s3_bucket):
    url = f"s3://{s3_bucket.name}/tidemark/landing"
    intake = intake_app(tmp_path, landing_url=url, s3_endpoint_url=s3_bucket.endpoint_url)

    response = intake.client.post(
        "/api/v1/events",
        json={"records": [event(n) for n in range(50)]},
        headers=intake.headers["marketer"],
    )

    assert response.status_code == 202, response.text
    zone = S3LandingZone.from_url(url, endpoint_url=s3_bucket.endpoint_url)
    assert [f.key for f in zone.list()] == [response.json()["landing_key"]]
    warehouse = DuckDBWarehouse(tmp_path / "check.duckdb")
    assert load_landing_files(zone, warehouse).rows_by_dataset() == {"events": 50}
