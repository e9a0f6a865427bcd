"""The `tidemark` command as a user runs it: in a subprocess, over a fresh home folder."""

import os
import shutil
import subprocess
import sys
import textwrap

import duckdb
import pytest

from connectors.settings import REPO_ROOT
from tests.api.cli_runner import tidemark

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt")]


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("demo")
    result = tidemark(home, "demo", "--no-serve", "--profiles", "3000")
    assert result.returncode == 0, result.stdout + result.stderr
    return home, result.stdout


def test_demo_prints_profiles_segments_and_timings(demo_home):
    home, output = demo_home
    assert "3,000 profiles" in output
    for segment in (
        "segment_new_subscribers_7d",
        "segment_cart_abandoners_24h",
        "segment_lapsed_customers_90d",
        "segment_high_value",
    ):
        assert segment in output
    assert "Timings:" in output and "dbt build" in output
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from analytics.profiles").fetchone() == (3000,)
        sizes = con.execute("select count(*) from analytics.segment_high_value").fetchone()
        assert sizes[0] > 0
        assert str(sizes[0]) in output.replace(",", "")


def test_demo_again_generates_nothing_new(demo_home):
    home, _ = demo_home
    files_before = sorted(p.name for p in (home / "landing").rglob("*.parquet"))
    again = tidemark(home, "demo", "--no-serve", "--profiles", "3000")
    assert again.returncode == 0, again.stderr
    assert "already" in again.stdout
    assert sorted(p.name for p in (home / "landing").rglob("*.parquet")) == files_before
    status = tidemark(home, "status")
    assert status.returncode == 0, status.stderr
    assert "Waiting to load: 0 files" in status.stdout


NEW_SEGMENT_SQL = """\
with profiles as (
    select * from {{ ref('profiles') }}
),

final as (
    select profile_id, email, phone, first_name, time_zone, lifetime_value
    from profiles
    where orders_count >= 3
)

select * from final
"""

NEW_SEGMENT_YML = """\
version: 2
models:
  - name: segment_repeat_buyers
    description: One row per profile with three or more orders.
    config:
      contract: {enforced: true}
      meta:
        tidemark:
          segment:
            label: Repeat buyers
            description: Ordered three times or more.
            owner: growth
            channels: [email]
    columns:
      - name: profile_id
        data_type: varchar
        constraints: [{type: not_null}]
        data_tests: [unique, not_null]
      - {name: email, data_type: varchar}
      - {name: phone, data_type: varchar}
      - {name: first_name, data_type: varchar}
      - {name: time_zone, data_type: varchar}
      - {name: lifetime_value, data_type: "decimal(18, 2)"}
"""


def test_a_new_segment_model_appears_with_no_python_change(demo_home, tmp_path):
    home, _ = demo_home
    project = tmp_path / "dbt"
    shutil.copytree(
        REPO_ROOT / "dbt", project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    (project / "models/segments/segment_repeat_buyers.sql").write_text(NEW_SEGMENT_SQL)
    (project / "models/segments/segment_repeat_buyers.yml").write_text(NEW_SEGMENT_YML)
    env = {"TIDEMARK_DBT_PROJECT_DIR": str(project)}

    built = tidemark(home, "build", env=env)

    assert built.returncode == 0, built.stdout + built.stderr
    assert "segment_repeat_buyers" in built.stdout and "Repeat buyers" in built.stdout
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        expected = con.execute(
            "select count(*) from analytics.profiles where orders_count >= 3"
        ).fetchone()[0]
        assert con.execute("select count(*) from analytics.segment_repeat_buyers").fetchone() == (
            expected,
        )
    probe = textwrap.dedent(
        """
        import dagster as dg
        from dagster_project.definitions import defs
        graph = defs().resolve_asset_graph()
        node = graph.get(dg.AssetKey(["analytics", "segment_repeat_buyers"]))
        print(node.group_name, sorted(node.owners))
        """
    )
    seen = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        env={**os.environ, "TIDEMARK_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert seen.returncode == 0, seen.stderr
    assert "segments ['team:growth']" in seen.stdout


def test_bad_warehouse_lock_gives_a_clear_error(demo_home):
    home, _ = demo_home
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb,sys; c=duckdb.connect(sys.argv[1]); print('locked', flush=True); "
            "sys.stdin.readline()",
            str(home / "warehouse.duckdb"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = tidemark(home, "status", env={"TIDEMARK_DUCKDB_LOCK_TIMEOUT_S": "1"})
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=10)
    assert result.returncode == 1
    assert "stayed locked by another process" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
