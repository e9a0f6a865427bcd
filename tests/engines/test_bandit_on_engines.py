"""A bandit experiment's waves on ClickHouse and Snowflake decide and assign as on DuckDB.

The same audience and the same outcomes so far (`analytics.experiment_variant_stats`, hand
written: one arm clicked more) are loaded into each engine, and two runs send two waves into
a real SMTP sink. Seeded, the decisions must be DuckDB's exactly (each arm's posterior,
chance of being best and share, per wave), and so must the members each wave picks and the
arm each of them is assigned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.ops_store import create_ops_engine, create_schema, ops_sessionmaker
from connectors.ops_store.bandit_allocations import BanditAllocation
from connectors.settings import Settings
from connectors.warehouse.base import Warehouse
from connectors.warehouse.factory import open_warehouse
from tests.activation.audience import PROFILE_COLUMNS
from tests.activation.conftest import define, make_engine
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING, SmtpSink
from tests.engines.conftest import engine_settings

pytestmark = pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)

EXPERIMENT = {
    "id": "subject_bandit",
    "variants": [
        {"name": "plain"},
        {"name": "friendly", "subject": "{{ first_name }}, a little welcome gift"},
        {"name": "bold", "subject": "{{ first_name }}: open me"},
    ],
    "primary_metric": "click",
    "mode": "bandit",
    "bandit": {"wave_size": 30, "waves": 3, "floor": 0.1, "seed": 7, "draws": 5000},
}
#: (users, clicks) per arm so far: friendly is ahead, plain and bold are close.
OUTCOMES = {"plain": (40, 4), "friendly": (40, 9), "bold": (40, 5)}
MEMBERS = [f"p{i:03d}" for i in range(80)]


def load_audience(warehouse: Warehouse) -> None:
    warehouse.execute("create schema if not exists analytics")
    warehouse.execute(f"create table analytics.profiles ({PROFILE_COLUMNS})")
    warehouse.execute(
        "create table analytics.segment_test (profile_id varchar, email varchar, "
        "first_name varchar)"
    )
    warehouse.execute(
        "insert into analytics.profiles values "
        + ", ".join(
            f"('{p}', '{p}@example.com', null, 'Ann', 'UTC', true, 'granted', 'never_asked', "
            "false, false)"
            for p in MEMBERS
        )
    )
    warehouse.execute(
        "insert into analytics.segment_test values "
        + ", ".join(f"('{p}', '{p}@example.com', 'Ann')" for p in MEMBERS)
    )
    warehouse.execute(
        "create table analytics.experiment_variant_stats (experiment_id varchar, "
        "variant varchar, metric varchar, users bigint, count bigint)"
    )
    warehouse.execute(
        "insert into analytics.experiment_variant_stats values "
        + ", ".join(
            f"('subject_bandit', '{arm}', 'click', {users}, {clicks})"
            for arm, (users, clicks) in OUTCOMES.items()
        )
    )


def run_two_waves(settings: Settings, home: Path) -> dict[str, Any]:
    """Two runs of the bandit activation on `settings`' engine; what they decided and did."""
    sink = SmtpSink().start()
    try:
        smtp = {"kind": "smtp", "config": {"host": sink.host, "port": sink.port, "starttls": False}}
        settings = Settings(
            **{**settings.model_dump(), "home": home, "destinations": {"sink": smtp}}
        )
        ops = create_ops_engine(settings.ops_store_dsn)
        create_schema(ops)
        sessions = ops_sessionmaker(ops)
        warehouse = open_warehouse(settings)
        load_audience(warehouse)
        define(sessions, experiment=EXPERIMENT)
        engine = make_engine(settings, warehouse, sessions)
        reports = [engine.run("welcome", requested_by="test") for _ in range(2)]
        received = sorted(rcpt for mail in sink.received for rcpt in mail.rcpt_tos)
    finally:
        sink.stop()
    with sessions() as session:
        decisions = [
            (d.wave, d.arm, d.alpha, d.beta, d.probability_best, d.share)
            for d in session.scalars(
                select(BanditAllocation).order_by(BanditAllocation.wave, BanditAllocation.arm)
            )
        ]
    wave_of_run = {report.run_id: wave for wave, report in enumerate(reports, start=1)}
    assigned = [
        {k.lower(): v for k, v in row.items()}
        for row in warehouse.query_arrow(
            "select profile_id, variant, run_id from tidemark.experiment_assignments"
        ).to_pylist()
    ]
    return {
        "statuses": [r.status for r in reports],
        "decisions": decisions,
        "arms": {(wave_of_run[r["run_id"]], r["profile_id"]): r["variant"] for r in assigned},
        "received": received,
    }


@pytest.fixture(scope="module")
def duckdb_waves(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("duckdb")
    return run_two_waves(Settings(home=home, warehouse="duckdb"), home)


def test_duckdb_waves_mean_something(duckdb_waves):
    # Compared below only because they are not trivial: two waves of 30, three arms each,
    # the shares leaning to the arm that clicked more.
    assert duckdb_waves["statuses"] == ["completed", "completed"]
    assert [wave for wave, _p in duckdb_waves["arms"]].count(2) == 30
    assert len(duckdb_waves["arms"]) == len(duckdb_waves["received"]) == 60
    shares = {(w, arm): share for w, arm, _a, _b, _p, share in duckdb_waves["decisions"]}
    assert shares[(1, "friendly")] > shares[(1, "plain")] >= 0.1
    assert set(duckdb_waves["arms"].values()) == {"plain", "friendly", "bold"}
    posteriors = {(w, arm): (a, b) for w, arm, a, b, _p, _s in duckdb_waves["decisions"]}
    assert posteriors[(1, "friendly")] == (1 + 9, 1 + 40 - 9)  # read from the warehouse


@pytest.mark.parametrize(
    "engine",
    [
        pytest.param("clickhouse", marks=pytest.mark.clickhouse),
        pytest.param("snowflake", marks=pytest.mark.snowflake),
    ],
)
def test_a_bandit_decides_and_assigns_as_on_duckdb(engine, request, tmp_path, duckdb_waves):
    settings = engine_settings(engine, request, tmp_path)

    waves = run_two_waves(settings, tmp_path)

    assert waves == duckdb_waves
