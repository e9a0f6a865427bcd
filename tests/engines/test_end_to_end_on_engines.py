"""The demo's whole lifecycle gives the same people, messages and results on every engine.

One scenario, run once per engine as the demo runs it: demo data (fixed seed, fixed clock)
is landed and loaded, `dbt build --target <engine>` builds the segments, the demo's
`welcome_new_subscribers` activation (an A/B test of two subject lines with a 10% holdout,
quiet hours, a frequency cap) is planned and delivered into a real SMTP sink, the demo's
simulated recipients answer through the SendGrid feedback path (`simulate_responses`, as
`tidemark demo` does), their feedback is loaded and the experiment and deliverability models
are built. Every engine must put the same profiles in each segment, send and defer the same
messages per arm, exclude the same people for the same reasons, and compute the same
experiment results (to 1e-9 relative).

Then a marketer adds a second activation (on another segment) and opens the dashboards: the
API's warehouse reads (overview, segment list, each segment's detail with its size history,
reach, exclusions by guardrail and sample members, deliverability, experiment results) must
show the same figures on every engine, in the order the API promises; on ClickHouse the same
through the JSON endpoints. DuckDB is the reference; it must also be non-trivial.
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
from fastapi.testclient import TestClient
from pydantic import BaseModel

from activation.catalog import create_activation
from activation.definition import ActivationDefinition
from activation.destinations import destination_for
from activation.engine import ActivationEngine
from activation.experiments.simulated_responses import simulate_responses
from activation.from_settings import ops_sessions
from activation.message_renderer import renderer_for
from activation.segments import discover_segments
from api.app import create_app
from api.cli import DEMO_ACTIVATION, release_warehouse_file
from api.demo_experiment import demo_audience
from api.reads.deliverability import read_deliverability
from api.reads.experiments import read_experiment_results
from api.reads.overview import read_overview
from api.reads.segments import read_segment, read_segments
from api.state import AppState
from connectors.landing import open_landing_zone
from connectors.loader import load_landing_files
from connectors.ops_store.tokens import create_token
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
    settings: Settings  # the engine's, for the dashboards' reads afterwards


@dataclass(frozen=True)
class Dashboards:
    """What the dashboards show after the scenario."""

    reads: dict[str, BaseModel]  # the API's warehouse reads, by name
    served: dict[str, Any] | None  # the same through the JSON endpoints (ClickHouse only)


def counted(warehouse: Warehouse, table: str, columns: list[str], where: str = "true") -> Any:
    """Rows of `table` counted by `columns`: {(value, ...): rows}."""
    listed = ", ".join(columns)
    rows = warehouse.query_arrow(
        f"select {listed}, count(*) as n from {table} where {where} group by {listed}"
    ).to_pylist()
    return {tuple(r[c] for c in columns): r["n"] for r in rows}


SECOND_ACTIVATION = ActivationDefinition.model_validate(
    {
        "name": "thank_high_value",
        "segment": "high_value",
        "destination": "demo_smtp",
        "channel": "email",
        "message": {
            "subject": "Thank you",
            "from_address": "hello@shop.example.com",
            "html": "<p>Thank you for shopping with us.</p>",
        },
    }
)
"""A marketer's own activation on another segment: two activations, two segments' histories."""

NOT_FIGURES = {"as_of", "stale"}  # when the read was made, not what it says
RUN_CLOCK = {"started_at", "finished_at", "updated_at"}  # the ops store's wall clock


def without_clocks(data: dict[str, Any]) -> dict[str, Any]:
    """`data` (a read, dumped or served) without when it was read and the runs' wall clock."""
    for key in NOT_FIGURES:
        data.pop(key, None)
    for run in data.get("recent_runs", []):
        for column in RUN_CLOCK:
            run.pop(column, None)
    return data


def figures(read: BaseModel, mode: str = "python") -> Any:
    """What a dashboard shows from `read`: its data without when it was read."""
    return without_clocks(read.model_dump(mode=mode))


def api_reads(state: AppState) -> dict[str, BaseModel]:
    """Every warehouse read the API serves, as its handlers call them."""
    segments = read_segments(state)
    return {
        "overview": read_overview(state),
        "segments": segments,
        **{f"segment:{s.name}": read_segment(state, s.name) for s in segments.data},
        "deliverability": read_deliverability(state),
        "experiments": read_experiment_results(state),
    }


ENDPOINTS = {
    "overview": "/api/v1/overview",
    "segments": "/api/v1/segments",
    "deliverability": "/api/v1/deliverability",
    "experiments": "/api/v1/experiments",
}


def served_reads(state: AppState, client: TestClient, names: list[str]) -> dict[str, Any]:
    """The same reads through the JSON endpoints, with a viewer's token."""
    with state.sessions.begin() as session:
        token = create_token(session, name="dashboard-viewer", role="viewer").plaintext
    paths = ENDPOINTS | {name: f"/api/v1/segments/{name.split(':', 1)[1]}" for name in names}
    served = {}
    for name in [*ENDPOINTS, *names]:
        response = client.get(paths[name], headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, (name, response.text)
        served[name] = without_clocks(response.json())
    return served


def dashboard_reads(settings: Settings) -> Dashboards:
    """A marketer adds an activation, then the dashboards read the warehouse."""
    if settings.warehouse == "duckdb":
        # The API serves from its own process, where no dbt holds the file read-write (which
        # bars a read-only connection in this one): let go of it as `tidemark demo` does.
        release_warehouse_file()
    app = create_app(settings)
    state: AppState = app.state.tidemark
    manifest = state.manifest()
    with state.sessions.begin() as session:
        create_activation(
            session,
            SECOND_ACTIVATION,
            actor="test",
            manifest=manifest,
            segments=discover_segments(manifest),
        )
    # The scenario's runs were planned at NOW; the dashboards look back from two days later.
    state.reads.clock = lambda: RESULTS_AS_OF.replace(tzinfo=UTC)
    reads = api_reads(state)
    served = None
    if settings.warehouse == "clickhouse":
        with TestClient(app) as client:
            served = served_reads(state, client, [n for n in reads if n.startswith("segment:")])
    return Dashboards(reads, served)


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
        settings,
        run_dir / "experiments",
        ["+path:models/experiments", "+deliverability_daily"],
        as_of=RESULTS_AS_OF,
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
        settings=settings,
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


@pytest.fixture(scope="module")
def dashboards() -> dict[str, Dashboards]:
    """Each engine's dashboards, read once after its scenario."""
    return {}


@pytest.fixture
def dashboards_on(
    dashboards: dict[str, Dashboards], outcome_on: Callable[[str], Outcome]
) -> Callable[[str], Dashboards]:
    """The dashboards' reads on an engine, after its scenario (run unless it has run)."""

    def read(engine: str) -> Dashboards:
        if engine not in dashboards:
            dashboards[engine] = dashboard_reads(outcome_on(engine).settings)
        return dashboards[engine]

    return read


def same_figure(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, float) and isinstance(actual, float):
        return math.isclose(actual, wanted, rel_tol=RELATIVE, abs_tol=1e-300)
    return actual == wanted


FAKESNOW_NULL_TIMESTAMP = datetime(1970, 1, 1)
"""What fakesnow's server (0.12) sends for a NULL timestamp: its `timestamp_to_sf_struct`
builds Snowflake's epoch/fraction struct without a null mask. Snowflake itself sends NULL."""


def differences(
    actual: Any, wanted: Any, where: str = "", null_timestamp: datetime | None = None
) -> list[str]:
    """Where `actual` shows other figures than `wanted`: lists in order, floats to 1e-9.

    `null_timestamp` is what the engine's stand-in sends for a NULL timestamp, if not NULL.
    """
    if isinstance(wanted, dict) and isinstance(actual, dict):
        if set(actual) != set(wanted):
            return [f"{where}: keys {sorted(actual)} != {sorted(wanted)}"]
        return [
            d
            for key in wanted
            for d in differences(actual[key], wanted[key], f"{where}.{key}", null_timestamp)
        ]
    if isinstance(wanted, list) and isinstance(actual, list):
        if len(actual) != len(wanted):
            return [f"{where}: {len(actual)} items != {len(wanted)}: {actual!r} vs {wanted!r}"]
        return [
            d
            for i, (a, w) in enumerate(zip(actual, wanted, strict=True))
            for d in differences(a, w, f"{where}[{i}]", null_timestamp)
        ]
    if wanted is None and null_timestamp is not None and actual == null_timestamp:
        return []
    if not same_figure(actual, wanted):
        return [f"{where}: {actual!r} != {wanted!r}"]
    return []


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


def split_samples(figures_by_read: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(every read without its sample members, each segment's sample members)."""
    samples = {}
    rest = {}
    for name, data in figures_by_read.items():
        if name.startswith("segment:"):
            data = dict(data)
            samples[name] = data.pop("sample")
        rest[name] = data
    return rest, samples


def compared(engine: str, dashboards_on: Callable[[str], Dashboards], part: int) -> list[str]:
    """Mismatches between `engine`'s dashboards and DuckDB's, in reads (0) or samples (1)."""
    reads = dashboards_on("duckdb").reads
    reference = split_samples({name: figures(read) for name, read in reads.items()})[part]
    actual = dashboards_on(engine)
    shown = split_samples({name: figures(read) for name, read in actual.reads.items()})[part]
    assert set(shown) == set(reference)
    null_timestamp = FAKESNOW_NULL_TIMESTAMP if engine == "snowflake" else None
    mismatches = [
        d
        for name in reference
        for d in differences(shown[name], reference[name], name, null_timestamp)
    ]
    if actual.served is not None:
        # The JSON endpoints serve those figures, as a browser receives them.
        wanted = split_samples({name: figures(read, "json") for name, read in reads.items()})
        served = split_samples(actual.served)[part]
        assert set(served) == set(wanted[part])
        mismatches += [
            f"served {d}"
            for name in wanted[part]
            for d in differences(served[name], wanted[part][name], name)
        ]
    return mismatches


@pytest.mark.parametrize("engine", ENGINES)
def test_dashboards_show_the_same_figures(engine, dashboards_on):
    reference = {name: figures(read) for name, read in dashboards_on("duckdb").reads.items()}
    # Every read has something to compare on DuckDB.
    overview = reference["overview"]
    assert overview["profiles"] > 0 and overview["reachable"]["email"] > 0
    assert overview["deliverability"]["delivered"] > 0 and overview["recent_runs"]
    assert all(s["members"] is not None for s in reference["segments"]["data"])
    welcome = reference["segment:new_subscribers_7d"]
    assert welcome["reach"][0]["reachable"] > 0 and welcome["size_history"]
    assert any(reach["excluded"] for reach in welcome["reach"])
    assert reference["deliverability"]["by_day"] and reference["deliverability"]["by_domain"]
    assert reference["experiments"]["count"] > 0

    mismatches = compared(engine, dashboards_on, 0)

    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("engine", ENGINES)
def test_segment_samples_show_the_same_members(engine, dashboards_on):
    reference = {name: figures(read) for name, read in dashboards_on("duckdb").reads.items()}
    samples = split_samples(reference)[1]
    assert samples and all(samples.values())

    mismatches = compared(engine, dashboards_on, 1)

    assert not mismatches, "\n".join(mismatches)
