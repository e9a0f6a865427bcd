"""`tidemark import profiles|events FILE.csv` as a user runs it."""

from typer.testing import CliRunner

from api.cli import app
from connectors.landing import LocalLandingZone


def test_import_lands_good_rows_writes_refused_ones_beside_the_file_and_says_so(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("TIDEMARK_HOME", str(tmp_path / "home"))
    source = tmp_path / "events.csv"
    source.write_text(
        "event_id\tprofile_id\tevent_type\toccurred_at\trevenue\n"
        "e1\tp1\torder\t2026-01-05T10:00:00Z\t20\n"
        "e2\tp1\torder\tyesterday\t20\n",
        encoding="utf-8-sig",
    )

    result = CliRunner().invoke(app, ["import", "events", str(source)], env={"COLUMNS": "200"})

    assert result.exit_code == 2, result.output  # 2: imported, but some rows were refused
    assert "Read 2 rows (utf-8-sig, tab-separated)" in result.output
    assert "1 landed, 1 quarantined" in result.output
    assert str(tmp_path / "events.quarantine.csv") in result.output
    assert "3,occurred_at" in (tmp_path / "events.quarantine.csv").read_text()
    assert [f.dataset for f in LocalLandingZone(tmp_path / "home" / "landing").list()] == ["events"]


def test_a_wrong_header_fails_with_the_expected_columns(tmp_path, monkeypatch):
    monkeypatch.setenv("TIDEMARK_HOME", str(tmp_path / "home"))
    source = tmp_path / "people.csv"
    source.write_text("name,mail\nAna,a@example.com\n", encoding="utf-8")

    result = CliRunner().invoke(app, ["import", "profiles", str(source)], env={"COLUMNS": "400"})

    assert result.exit_code == 1
    assert "missing required columns ['profile_id']" in result.output
    assert "Expected columns (any order): profile_id (required), email" in result.output
    assert (
        not (tmp_path / "home" / "landing").exists()
        or not LocalLandingZone(tmp_path / "home" / "landing").list()
    )
