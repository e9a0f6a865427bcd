"""`/api/v1/imports`: a marketer uploads a CSV; good rows land, refused rows can be downloaded."""

import csv
import io

import pyarrow.parquet as pq
import pytest

from connectors.ops_store.audit import list_audit
from tests.api.intake import intake_app


@pytest.fixture
def intake(tmp_path):
    return intake_app(tmp_path / "home")


def profiles_csv(*rows: str) -> bytes:
    return ("profile_id;email;time_zone\n" + "".join(f"{row}\n" for row in rows)).encode("latin-1")


def upload(intake, kind, content: bytes, role="marketer"):
    return intake.client.post(
        f"/api/v1/imports/{kind}",
        files={"file": ("contacts.csv", content, "text/csv")},
        headers=intake.headers[role],
    )


def test_an_upload_lands_its_good_rows_and_keeps_the_refused_ones(intake):
    answer = upload(
        intake,
        "profiles",
        profiles_csv("p1;josé@example.com;Europe/Madrid", "p2;nope;Europe/Paris", "p3;;UTC"),
    )

    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert (result["rows_read"], result["rows_landed"], result["rows_quarantined"]) == (3, 2, 1)
    assert result["file_format"] == "latin-1, semicolon-separated"
    assert result["problems_by_column"] == {"email": 1}
    (landed,) = intake.landing.list()
    table = pq.read_table(intake.landing.root / landed.key)
    assert table.column("profile_id").to_pylist() == ["p1", "p3"]
    assert table.column("email").to_pylist() == ["josé@example.com", None]

    refused = intake.client.get(result["quarantine_url"], headers=intake.headers["viewer"])
    assert refused.status_code == 403
    refused = intake.client.get(result["quarantine_url"], headers=intake.headers["marketer"])
    assert refused.status_code == 200 and refused.headers["content-type"].startswith("text/csv")
    (row,) = csv.DictReader(io.StringIO(refused.text))
    assert (row["row"], row["columns"], row["profile_id"]) == ("3", "email", "p2")
    assert "not a valid email address" in row["reasons"]
    # The upload itself is not kept once its rows are landed or quarantined.
    folder = intake.settings.home / "imports" / result["import_id"]
    assert sorted(p.name for p in folder.iterdir()) == ["quarantine.csv"]
    with intake.sessions() as session:
        (entry,) = [e for e in list_audit(session) if e.action == "import.profiles"]
    assert entry.actor == "token:test-marketer" and entry.after["rows_landed"] == 2


def test_a_wrong_header_is_a_422_listing_the_expected_columns(intake):
    answer = upload(intake, "events", b"id,type,when\n1,order,2024-01-01\n")

    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert "missing required columns ['event_id', 'profile_id', 'event_type', 'occurred_at']" in (
        detail
    )
    assert "Expected columns (any order): event_id (required)" in detail
    assert "Nothing was imported" in detail
    assert intake.landing.list() == []


def test_viewers_cannot_import_and_unknown_kinds_are_refused(intake):
    assert (
        upload(intake, "profiles", profiles_csv("p1;a@b.com;UTC"), role="viewer").status_code == 403
    )
    assert upload(intake, "orders", profiles_csv("p1;a@b.com;UTC")).status_code == 422
    missing = intake.client.get(
        "/api/v1/imports/" + "0" * 32 + "/quarantine", headers=intake.headers["marketer"]
    )
    assert missing.status_code == 404
