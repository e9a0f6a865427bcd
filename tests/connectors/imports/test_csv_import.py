"""CSV import: a customer's file in, good rows in `raw` through the landing zone and loader,
bad rows in the quarantine file with their row number, column and reason."""

import csv
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from connectors.imports import CsvFormatError, HeaderMismatchError, import_csv
from connectors.landing import LocalLandingZone
from connectors.loader import load_landing_files
from connectors.loader.expectations import validate_batch
from connectors.raw_schemas import CONSENT_EVENTS, PROFILES
from connectors.warehouse.duckdb import DuckDBWarehouse

NOW = datetime(2026, 11, 27, 12, 0)
NOV_1 = datetime(2026, 11, 1)

PROFILES_HEADER = [
    "profile_id", "email", "phone", "first_name", "last_name", "country", "time_zone",
    "created_at", "updated_at", "email_consent", "sms_consent",
]  # fmt: skip


@pytest.fixture
def landing(tmp_path):
    return LocalLandingZone(tmp_path / "landing")


@pytest.fixture
def warehouse(tmp_path):
    return DuckDBWarehouse(tmp_path / "warehouse.duckdb", lock_timeout_s=30)


def write_csv(path: Path, rows: list[list[str]], *, delimiter=",", encoding="utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def quarantined(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def run_import(kind, path, landing, tmp_path, **options):
    return import_csv(
        kind, path, landing, quarantine_path=tmp_path / "quarantine.csv", now=NOW, **options
    )


def test_profiles_land_normalised_and_load_into_raw(tmp_path, landing, warehouse):
    source = write_csv(
        tmp_path / "customers.csv",
        [
            PROFILES_HEADER,
            [
                "c1",
                " Ana@Example.COM ",
                "06 12 34 56 78",
                "Ana",
                "",
                "fr",
                "Europe/Paris",
                "2024-01-02T08:00:00Z",
                "2024-05-01T09:30:00+02:00",
                "granted",
                "",
            ],
            [
                "c2",
                "bo@example.org",
                "+1 415 555 0132",
                "Bo",
                "Li",
                "US",
                "",
                "",
                "",
                "withdrawn",
                "granted",
            ],
        ],
    )

    summary = run_import("profiles", source, landing, tmp_path)

    assert (summary.rows_read, summary.rows_landed, summary.rows_quarantined) == (2, 2, 0)
    assert summary.quarantine_path is None and not (tmp_path / "quarantine.csv").exists()
    assert dict(summary.rows_by_dataset) == {"profiles": 2, "consent_events": 3}
    report = load_landing_files(landing, warehouse, now=NOW)
    assert report.rows_by_dataset() == {"profiles": 2, "consent_events": 3}
    assert not report.with_status("quarantined")
    rows = warehouse.query_arrow(
        "select profile_id, email, phone, country, time_zone, created_at, updated_at, source "
        "from raw.profiles order by profile_id"
    ).to_pylist()
    assert rows[0] == {
        "profile_id": "c1",
        "email": "ana@example.com",
        "phone": "+33612345678",  # a national number read in the row's country, to E.164
        "country": "FR",
        "time_zone": "Europe/Paris",
        "created_at": datetime(2024, 1, 2, 8, 0),
        "updated_at": datetime(2024, 5, 1, 7, 30),  # converted to UTC
        "source": "csv_import",
    }
    # Without timestamps a row is dated by the import; the number keeps its + form.
    assert rows[1]["phone"] == "+14155550132"
    assert rows[1]["updated_at"] == NOW and rows[1]["created_at"] == NOW
    consents = warehouse.query_arrow(
        "select profile_id, channel, status from raw.consent_events order by 1, 2"
    ).to_pylist()
    assert consents == [
        {"profile_id": "c1", "channel": "email", "status": "granted"},
        {"profile_id": "c2", "channel": "email", "status": "withdrawn"},
        {"profile_id": "c2", "channel": "sms", "status": "granted"},
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_encodings_and_delimiters_are_recognised(tmp_path, landing, encoding, delimiter):
    source = write_csv(
        tmp_path / "export.csv",
        [
            ["profile_id", "first_name", "last_name", "email"],
            ["1", "José", "Müller; Søren, Jr", "jose@example.com"],
            ["2", "Zoë", "Ó Briain", ""],
        ],
        delimiter=delimiter,
        encoding=encoding,
    )

    summary = run_import("profiles", source, landing, tmp_path)

    assert summary.rows_landed == 2 and summary.rows_quarantined == 0
    expected_encoding = "latin-1" if encoding == "latin-1" else encoding
    assert summary.file_format.startswith(expected_encoding)
    (profiles_key,) = summary.landing_keys
    table = pq.read_table(landing.root / profiles_key)
    assert table.column("profile_id").to_pylist() == ["1", "2"]  # no BOM glued to the header
    assert table.column("first_name").to_pylist() == ["José", "Zoë"]
    assert table.column("last_name").to_pylist() == ["Müller; Søren, Jr", "Ó Briain"]


def test_quoted_newlines_stay_in_their_field_and_row_numbers_count_records(tmp_path, landing):
    source = tmp_path / "notes.csv"
    source.write_text(
        "profile_id,first_name,last_name,email\n"
        '1,"Anne\nMarie",Dupont,anne@example.com\n'
        '2,Bob,"Two\nline\nname",not-an-email\n'
        "3,Cleo,Ng,cleo@example.com\n",
        encoding="utf-8",
    )

    summary = run_import("profiles", source, landing, tmp_path)

    assert (summary.rows_landed, summary.rows_quarantined) == (2, 1)
    (bad,) = quarantined(tmp_path / "quarantine.csv")
    assert bad["row"] == "3"  # header is row 1; a multi-line record is one row
    assert bad["last_name"] == "Two\nline\nname"
    table = pq.read_table(landing.root / summary.landing_keys[0])
    assert table.column("first_name").to_pylist() == ["Anne\nMarie", "Cleo"]


def test_bad_rows_are_quarantined_with_row_column_and_reason(tmp_path, landing):
    source = write_csv(
        tmp_path / "mixed.csv",
        [
            ["profile_id", "email", "phone", "country", "time_zone", "updated_at", "email_consent"],
            [
                "ok1",
                "a@example.com",
                "+442071838750",
                "GB",
                "Europe/London",
                "2024-03-01",
                "granted",
            ],
            ["", "b@example.com", "", "", "", "", ""],
            ["bad-email", "b@@example.com", "", "", "", "", ""],
            ["bad-phone", "", "12", "US", "", "", ""],
            ["bad-zone", "", "", "", "Europe/Atlantis", "", ""],
            ["bad-case-zone", "", "", "", "europe/paris", "", ""],
            ["bad-consent", "", "", "", "", "", "yes"],
            ["bad-time", "", "", "", "", "01/03/2024", ""],
            ["future", "", "", "", "", "2031-01-01T00:00:00", ""],
            ["short-row", "c@example.com"],
            ["two-problems", "nope", "", "", "Nowhere/City", "", ""],
            ["ok2", "d@example.com", "", "", "", "", ""],
        ],
    )

    summary = run_import("profiles", source, landing, tmp_path)

    assert (summary.rows_read, summary.rows_landed, summary.rows_quarantined) == (12, 2, 10)
    by_id = {row["profile_id"]: row for row in quarantined(tmp_path / "quarantine.csv")}
    assert set(by_id) == {
        "", "bad-email", "bad-phone", "bad-zone", "bad-case-zone", "bad-consent",
        "bad-time", "future", "short-row", "two-problems",
    }  # fmt: skip
    assert by_id[""]["row"] == "3"
    assert (by_id[""]["columns"], by_id[""]["reasons"]) == ("profile_id", "required value is blank")
    assert by_id["bad-email"]["columns"] == "email"
    assert "not a valid email address" in by_id["bad-email"]["reasons"]
    assert by_id["bad-phone"]["columns"] == "phone"
    assert by_id["bad-zone"]["reasons"].startswith("not an IANA time zone: 'Europe/Atlantis'")
    assert "did you mean 'Europe/Paris'" in by_id["bad-case-zone"]["reasons"]
    assert by_id["bad-consent"]["columns"] == "email_consent"
    assert "granted, withdrawn" in by_id["bad-consent"]["reasons"]
    assert "ISO 8601" in by_id["bad-time"]["reasons"]
    assert "implausible" in by_id["future"]["reasons"]
    assert by_id["short-row"]["row"] == "11"
    assert by_id["short-row"]["reasons"] == "expected 7 fields, found 2"
    assert by_id["two-problems"]["columns"] == "email; time_zone"
    assert by_id["two-problems"]["row"] == "12"
    assert summary.problems_by_column["email"] == 2
    assert summary.problems_by_column["(row)"] == 1
    landed = pq.read_table(landing.root / summary.landing_keys[0])
    assert landed.column("profile_id").to_pylist() == ["ok1", "ok2"]


def test_a_wrong_header_is_refused_before_anything_lands(tmp_path, landing):
    source = write_csv(tmp_path / "wrong.csv", [["id", "mail", "phone"], ["1", "a@b.com", ""]])

    with pytest.raises(HeaderMismatchError) as refused:
        run_import("profiles", source, landing, tmp_path)

    message = str(refused.value)
    assert "missing required columns ['profile_id']" in message
    assert "unknown columns ['id', 'mail']" in message
    assert "Expected columns (any order): profile_id (required), email, phone" in message
    assert "Found: 'id', 'mail', 'phone'" in message
    assert landing.list() == [] and not (tmp_path / "quarantine.csv").exists()


def test_an_empty_file_is_refused_with_a_reason(tmp_path, landing):
    source = tmp_path / "empty.csv"
    source.write_bytes(b"")
    with pytest.raises(CsvFormatError, match="empty"):
        run_import("profiles", source, landing, tmp_path)


def test_the_file_is_streamed_in_chunks(tmp_path, landing):
    rows = [["event_id", "profile_id", "event_type", "occurred_at", "revenue", "quantity"]]
    rows += [
        [f"e{i}", f"p{i % 50}", "order", "2026-11-01T10:00:00Z", "19.90", "2"] for i in range(2_500)
    ]
    rows[1234][4] = "12,50"  # a decimal comma: refused, the rest of its chunk still lands
    source = write_csv(tmp_path / "events.csv", rows)

    summary = run_import("events", source, landing, tmp_path, chunk_rows=1_000)

    assert (summary.rows_read, summary.rows_landed, summary.rows_quarantined) == (2_500, 2_499, 1)
    sizes = [pq.read_metadata(landing.root / key).num_rows for key in summary.landing_keys]
    assert sizes == [1_000, 999, 500]  # one batch per chunk: never the whole file at once
    (bad,) = quarantined(tmp_path / "quarantine.csv")
    assert (bad["row"], bad["columns"], bad["event_id"]) == ("1235", "revenue", "e1233")


def test_events_load_into_raw(tmp_path, landing, warehouse):
    source = write_csv(
        tmp_path / "events.csv",
        [
            ["event_type", "event_id", "profile_id", "occurred_at", "order_id", "revenue"],
            ["Order", "e1", "p1", "2026-11-01T10:00:00+01:00", "o1", "42.5"],
            ["page_view", "e2", "p1", "2026-11-01 11:00:00", "", ""],
            ["page view", "e3", "p2", "2026-11-01T11:00:00", "", ""],
        ],
    )

    summary = run_import("events", source, landing, tmp_path)
    load_landing_files(landing, warehouse, now=NOW)

    assert summary.rows_quarantined == 1
    rows = warehouse.query_arrow(
        "select event_id, event_type, occurred_at, revenue from raw.events order by event_id"
    ).to_pylist()
    assert rows == [
        {
            "event_id": "e1",
            "event_type": "order",
            "occurred_at": NOV_1.replace(hour=9),
            "revenue": 42.5,
        },
        {
            "event_id": "e2",
            "event_type": "page_view",
            "occurred_at": NOV_1.replace(hour=11),
            "revenue": None,
        },
    ]


def test_an_unreadable_row_stops_the_import_saying_where_and_what_landed(tmp_path, landing):
    huge = "x" * 200_000  # longer than the csv module's field limit
    lines = ["profile_id,first_name"] + [f"p{i},Ann" for i in range(5)] + [f'p5,"{huge}"']
    source = tmp_path / "huge.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(CsvFormatError) as stopped:
        run_import("profiles", source, landing, tmp_path, chunk_rows=2)

    message = str(stopped.value)
    assert message.startswith("row 7 is not readable CSV: field larger than field limit")
    assert "4 rows before it landed, 0 were quarantined" in message
    assert len(landing.list("profiles")) == 2


def test_what_an_import_lands_passes_the_landing_suite_at_its_edges(tmp_path, landing):
    """The import leaves the GE suite to the loader: its own checks must imply it, also for
    the earliest and latest times the suite allows and for consent on both channels."""
    source = write_csv(
        tmp_path / "edges.csv",
        [
            ["profile_id", "created_at", "updated_at", "email_consent", "sms_consent"],
            ["early", "2000-01-01T00:00:00Z", "2000-01-01T00:00:00Z", "Granted", "WITHDRAWN"],
            ["late", "2026-11-28T12:00:00", "2026-11-28T13:59:59+02:00", "withdrawn", ""],
            ["defaulted", "", "", "", "granted"],
        ],
    )

    summary = run_import("profiles", source, landing, tmp_path)

    assert (summary.rows_landed, summary.rows_quarantined) == (3, 0)
    for key in summary.landing_keys:
        dataset = next(ds for ds in (PROFILES, CONSENT_EVENTS) if f"/{ds.name}/" in f"/{key}")
        verdict = validate_batch(dataset, pq.read_table(landing.root / key), NOW)
        assert verdict.success, verdict.failures
        assert verdict.evaluated > 0
