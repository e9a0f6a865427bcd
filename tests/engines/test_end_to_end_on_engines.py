"""The demo's whole lifecycle gives the same people, messages and results on every engine.

One scenario, run once per engine as the demo runs it: demo data (fixed seed, fixed clock)
is landed and loaded, `dbt build --target <engine>` builds the segments, the demo's
`welcome_new_subscribers` activation (an A/B test of two subject lines with a 10% holdout,
quiet hours, a frequency cap) is planned and delivered into a real SMTP sink, the demo's
simulated recipients answer through the SendGrid feedback path (`simulate_responses`, as
`tidemark demo` does), their feedback is loaded and the experiment models are built. Every
engine must put the same profiles in each segment, send and defer the same messages per arm,
exclude the same people for the same reasons, and compute the same experiment results (to
1e-9 relative). DuckDB is the reference; it must also be non-trivial.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from activation.destinations import destination_for
from activation.engine import ActivationEngine
from activation.experiments.simulated_responses import simulate_responses
from activation.from_settings import ops_sessions
from activation.message_renderer import renderer_for
from api.cli import DEMO_ACTIVATION
from api.demo_experiment import demo_audience
from connectors.landing import open_landing_zone
from connectors.loader import load_landing_files
from connectors.settings import Settings
from connectors.sources.demo_data import write_demo_data
from connectors.warehouse.base import Warehouse
from connectors.warehouse.factory import open_warehouse
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING, SmtpSink
from tests.engines.conftest import ENGINES, engine_settings
from tests.engines.engine_build import build_on_engine
from tests.engines.test_dbt_on_engines import SEGMENTS

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)]

PROFILES = 5_000
SEED = 7
NOW = datetime(2026, 11, 27, 16, 0)  # naive UTC, the demo data's and the loader's clock
RESULTS_AS_OF = NOW + timedelta(days=2)  # every simulated answer (minutes after a send) is in
RELATIVE = 1e-9


@dataclass(frozen=True)
class Outcome:
    """What a user would compare across engines after the scenario."""

    segments: dict[str, list[str]]
    messages: dict[tuple[str, str], int]  # (state, variant) -> messages
    exclusions: dict[str, int]  # reason -> people finally excluded
    delivered: int  # messages the SMTP sink received
    results: dict[tuple[str, str, str], dict[str, Any]]  # (experiment, variant, metric) -> row


def counted(warehouse: Warehouse, table: str, columns: list[str], where: str = "true") -> Any:
    """Rows of `table` counted by `columns`: {(value, ...): rows}."""
    listed = ", ".join(columns)
    rows = warehouse.query_arrow(
        f"select {listed}, count(*) as n from {table} where {where} group by {listed}"
    ).to_pylist()
    return {tuple(r[c] for c in columns): r["n"] for r in rows}


def run_scenario(settings: Settings, run_dir: Path) -> Outcome:
    warehouse = open_warehouse(settings)
    landing = open_landing_zone(settings)
    write_demo_data(landing, PROFILES, seed=SEED, now=NOW)
    assert not load_landing_files(landing, warehouse, now=NOW).with_status("quarantined")
    build_on_engine(settings, run_dir / "segments", ["+path:models/segments"], as_of=NOW)

    sink = SmtpSink().start()
    try:
        smtp = {"kind": "smtp", "config": {"host": sink.host, "port": sink.port, "starttls": False}}
        settings = Settings(**{**settings.model_dump(), "destinations": {"demo_smtp": smtp}})
        manifest = json.loads((run_dir / "segments/target/manifest.json").read_text())
        engine = ActivationEngine(
            warehouse=warehouse,
            sessions=ops_sessions(settings),
            manifest=lambda: manifest,
            destination_for=lambda d: destination_for(settings, d),
            renderer_for=lambda d: renderer_for(settings, d),
            clock=lambda: NOW.replace(tzinfo=UTC),
        )
        # A fixed run id makes the message ids, on which the simulated answers hang, the same.
        report = engine.run(DEMO_ACTIVATION, requested_by="test", run_id="e2e")
        assert report.status in ("completed", "deferred"), report.reason
        delivered = len(sink.received)
    finally:
        sink.stop()

    definition, _segment = engine.definition(DEMO_ACTIVATION)
    assert definition.experiment is not None
    simulate_responses(
        warehouse,
        landing,
        activation=DEMO_ACTIVATION,
        experiment=definition.experiment,
        audience=demo_audience(settings),
    )
    assert not load_landing_files(landing, warehouse, now=RESULTS_AS_OF).with_status("quarantined")
    build_on_engine(
        settings, run_dir / "experiments", ["+path:models/experiments"], as_of=RESULTS_AS_OF
    )

    results = warehouse.query_arrow("select * from analytics.experiment_results").to_pylist()
    return Outcome(
        segments={
            segment: sorted(
                warehouse.query_arrow(f"select profile_id from analytics.{segment}")
                .column(0)
                .to_pylist()
            )
            for segment in SEGMENTS
        },
        messages=counted(warehouse, "tidemark.message_log", ["state", "variant"]),
        exclusions={
            reason: n
            for (reason,), n in counted(
                warehouse, "tidemark.exclusions", ["reason"], where="is_final"
            ).items()
        },
        delivered=delivered,
        results={
            (r["experiment_id"], r["variant"], r["metric"]): r
            for r in ({k.lower(): v for k, v in row.items()} for row in results)
        },
    )


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    """Each engine's outcome, computed once (DuckDB's serves every engine's comparison)."""
    return {}


@pytest.fixture
def outcome_on(
    outcomes: dict[str, Outcome],
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], Outcome]:
    """Run the scenario on an engine unless it has run in this module already."""

    def run(engine: str) -> Outcome:
        if engine not in outcomes:
            home = tmp_path_factory.mktemp(f"e2e-{engine}")
            outcomes[engine] = run_scenario(engine_settings(engine, request, home), home)
        return outcomes[engine]

    return run


def same_figure(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, float) and isinstance(actual, float):
        return math.isclose(actual, wanted, rel_tol=RELATIVE, abs_tol=1e-300)
    return actual == wanted


@pytest.mark.parametrize("engine", ENGINES)
def test_demo_lifecycle_gives_the_same_people_messages_and_results(engine, outcome_on):
    reference = outcome_on("duckdb")
    # The comparison means something only if the scenario reaches every stage on DuckDB.
    assert reference.segments["segment_new_subscribers_7d"]
    sent = {variant: n for (state, variant), n in reference.messages.items() if state == "sent"}
    assert set(sent) == {"plain", "friendly"} and reference.delivered == sum(sent.values())
    assert reference.exclusions.get("holdout", 0) > 0
    clicks = {
        variant: row
        for (experiment, variant, metric), row in reference.results.items()
        if experiment == "welcome_subject" and metric == "click"
    }
    assert set(clicks) == {"holdout", "plain", "friendly"}
    assert clicks["friendly"]["p_value"] is not None and clicks["friendly"]["p_value"] < 0.05

    actual = outcome_on(engine)

    assert actual.segments == reference.segments
    assert actual.messages == reference.messages
    assert actual.exclusions == reference.exclusions
    assert actual.delivered == reference.delivered
    assert set(actual.results) == set(reference.results)
    mismatches = [
        f"{key} {column}: {engine} {actual.results[key][column]!r} duckdb {value!r}"
        for key, row in reference.results.items()
        for column, value in row.items()
        if not same_figure(actual.results[key][column], value)
    ]
    assert not mismatches, "\n".join(mismatches)
