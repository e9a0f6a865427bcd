"""Read endpoints answer with the warehouse's numbers, and keep answering during a build.

While another process holds the DuckDB file (as a dbt build does), reads serve their last
good result marked `stale` with its time; a read with no earlier result is a 503 with
`Retry-After`, never a 500; reads from the ops store (runs) are unaffected.
"""

import shutil
import subprocess
import sys
from contextlib import contextmanager

import duckdb
import pytest

from connectors.settings import REPO_ROOT
from tests.api.intake import intake_app

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt")]


@contextmanager
def warehouse_held_by_another_process(path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb,sys; c=duckdb.connect(sys.argv[1]); print('locked', flush=True); "
            "sys.stdin.readline()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=10)


def query(core, sql):
    with duckdb.connect(str(core.settings.duckdb_file), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_overview_and_segments_show_the_warehouse_numbers(core):
    viewer = core.headers["viewer"]
    overview = core.client.get("/api/v1/overview", headers=viewer).json()
    [(profiles, email, sms)] = query(
        core,
        "select count(*), count(*) filter (where is_email_reachable), "
        "count(*) filter (where is_sms_reachable) from analytics.profiles",
    )
    assert (overview["profiles"], overview["reachable"]) == (
        profiles,
        {"email": email, "sms": sms},
    )
    assert overview["stale"] is False and overview["recent_runs"][0]["requested_by"] == "demo"
    sizes = {s["name"]: s["members"] for s in overview["segments"]}
    [(high_value,)] = query(core, "select count(*) from analytics.segment_high_value")
    assert sizes["high_value"] == high_value

    detail = core.client.get("/api/v1/segments/new_subscribers_7d", headers=viewer).json()
    assert detail["segment"]["owner"] and "ref('profiles')" in detail["sql"]
    assert detail["segment"]["members"] == len(
        query(core, "select 1 from analytics.segment_new_subscribers_7d")
    )
    [email_reach] = detail["reach"]
    assert (
        email_reach["reachable"] + sum(email_reach["excluded"].values())
        == (detail["segment"]["members"])
    )
    assert len(detail["sample"]) == min(10, detail["segment"]["members"])
    assert detail["size_history"][0]["members"] == detail["segment"]["members"]


def test_deliverability_rates_come_from_summed_counts(core):
    body = core.client.get("/api/v1/deliverability?days=365", headers=core.headers["viewer"])
    result = body.json()
    [(sent, delivered, complaints)] = query(
        core,
        "select sum(sent), sum(delivered), sum(complaints) from analytics.deliverability_daily",
    )
    assert (result["totals"]["sent"], result["totals"]["delivered"]) == (sent, delivered)
    assert result["totals"]["complaint_rate"] == pytest.approx(complaints / delivered)
    assert sum(day["sent"] for day in result["by_day"]) == sent
    assert result["health"] in {"good", "warning", "bad"}
    assert (result["complaint_target"], result["complaint_ceiling"]) == (0.001, 0.003)


def test_experiment_results_are_empty_with_a_note_before_the_model_exists(core):
    result = core.client.get("/api/v1/experiments", headers=core.headers["viewer"]).json()
    if result["note"] is not None:
        assert result["results"] == [] and "experiment_results" in result["note"]
    else:
        assert result["count"] == len(result["results"])


def test_reads_serve_the_last_good_result_while_a_build_holds_the_warehouse(core):
    viewer = core.headers["viewer"]
    core.app.state.tidemark.reads.fresh_for_s = 0  # ask the warehouse every time
    before = core.client.get("/api/v1/segments", headers=viewer).json()

    with warehouse_held_by_another_process(core.settings.duckdb_file):
        during = core.client.get("/api/v1/segments", headers=viewer)
        never_read = core.client.get("/api/v1/deliverability", headers=viewer)
        runs = core.client.get("/api/v1/runs", headers=viewer)

    assert during.status_code == 200
    assert during.json()["stale"] is True and during.json()["as_of"] == before["as_of"]
    assert during.json()["data"] == before["data"]
    assert never_read.status_code == 503 and never_read.headers["retry-after"]
    assert "warehouse is busy" in never_read.json()["detail"]
    assert runs.status_code == 200 and runs.json()["count"] >= 1
    after = core.client.get("/api/v1/segments", headers=viewer).json()
    assert after["stale"] is False and after["as_of"] > before["as_of"]


def test_a_dbt_project_mid_edit_does_not_take_the_api_down(core, tmp_path, monkeypatch, caplog):
    project = tmp_path / "dbt"
    shutil.copytree(REPO_ROOT / "dbt", project, ignore=shutil.ignore_patterns("logs"))
    (project / "models" / "segments" / "segment_broken.yml").write_text("models: [{name: ")
    monkeypatch.setenv("TIDEMARK_DBT_PROJECT_DIR", str(project))
    app = intake_app(core.settings.home)

    response = app.client.get("/api/v1/segments", headers=app.headers["viewer"])

    assert response.status_code == 200
    assert "high_value" in {s["name"] for s in response.json()["data"]}
    assert "serving the last parsed dbt manifest" in caplog.text
