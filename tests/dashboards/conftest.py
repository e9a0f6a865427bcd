"""The dashboards against real parts: a DuckDB warehouse, a SQLite ops store, an SMTP sink.

`site` builds a small warehouse by hand (profiles, two segments, deliverability and
experiment results), a dbt manifest declaring the segments, an SMTP destination, a token per
role, and the app. `carry_out_requests` plays Dagster's request sensor: it claims the queued
runs and dry runs and runs them with the engine, as the sensor's job does.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.state import AppState
from connectors.ops_store.activation_requests import claim_pending_requests, mark_request
from connectors.ops_store.engine import write_transaction
from connectors.ops_store.models import RequestKind, RequestStatus
from connectors.ops_store.tokens import create_token
from connectors.settings import Settings
from connectors.warehouse.duckdb import DuckDBWarehouse
from dashboards.csrf import CSRF_FIELD
from tests.activation.audience import add_many, add_profile, create_audience_tables, daytime_zone
from tests.connectors.destinations.servers.smtp_sink import SmtpSink

SEGMENTS = {
    "loyal": {
        "label": "Loyal customers",
        "description": "Ordered three times or more.",
        "owner": "growth-team",
    },
    "lapsed": {
        "label": "Lapsed customers",
        "description": "No order in 90 days.",
        "owner": "crm-team",
    },
}

WELCOME_HTML = (
    "<p>Hello {{ first_name }}, thanks for shopping with us.</p>"
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
)


def manifest() -> dict:
    """The parts of a dbt manifest the dashboards read: segment models with their meta."""
    nodes = {}
    for name, meta in SEGMENTS.items():
        model = f"segment_{name}"
        nodes[f"model.tidemark.{model}"] = {
            "resource_type": "model",
            "name": model,
            "schema": "analytics",
            "description": meta["description"],
            "raw_code": f"select * from {{{{ ref('profiles') }}}} -- {name}",
            "original_file_path": f"models/segments/{model}.sql",
            "config": {"meta": {"tidemark": {"segment": {**meta, "channels": ["email"]}}}},
            "columns": {c: {} for c in ("profile_id", "email", "first_name")},
        }
    return {"nodes": nodes, "exposures": {}}


def build_warehouse(path: Path) -> None:
    """Profiles in two segments, guardrail cases in 'loyal', deliverability and experiments."""
    warehouse = DuckDBWarehouse(path)
    create_audience_tables(warehouse, *SEGMENTS)
    zone = daytime_zone()
    add_many(warehouse, 40, segments=("loyal",), prefix="l")
    warehouse.execute("update analytics.profiles set time_zone = ?", [zone])
    add_profile(warehouse, "m-no-consent", segments=("loyal",), consent="revoked", tz=zone)
    add_profile(warehouse, "m-suppressed", segments=("loyal",), suppressed=True, tz=zone)
    add_profile(
        warehouse, "m-bad-address", "not-an-email", segments=("loyal",), valid=False, tz=zone
    )
    add_many(warehouse, 7, segments=("lapsed",), prefix="z")
    _reachability(warehouse)
    _deliverability(warehouse)
    _experiment_results(warehouse)


def _reachability(warehouse: DuckDBWarehouse) -> None:
    """The mart's reachability flags, as `analytics.profiles` derives them."""
    for column in ("is_email_reachable", "is_sms_reachable"):
        warehouse.execute(f"alter table analytics.profiles add column {column} boolean")
    warehouse.execute(
        "update analytics.profiles set is_email_reachable = is_email_valid "
        "and email_consent = 'granted' and not is_email_suppressed, "
        "is_sms_reachable = phone is not null and sms_consent = 'granted'"
    )


def _deliverability(warehouse: DuckDBWarehouse) -> None:
    warehouse.execute(
        "create table analytics.deliverability_daily (event_date date, mailbox_domain varchar, "
        "sent bigint, delivered bigint, hard_bounces bigint, soft_bounces bigint, "
        "complaints bigint, unique_opens bigint, unique_clicks bigint, unsubscribes bigint, "
        "delivery_rate double, bounce_rate double, complaint_rate double)"
    )
    today = date.today()
    for offset in range(5):
        day = today - timedelta(days=offset)
        for domain, sent, complaints in (("gmail.com", 10_000, 5), ("yahoo.com", 2_000, 10)):
            delivered = sent - 100
            warehouse.execute(
                "insert into analytics.deliverability_daily values "
                "(?, ?, ?, ?, 60, 40, ?, 0, 0, 0, ?, ?, ?)",
                [
                    day,
                    domain,
                    sent,
                    delivered,
                    complaints,
                    delivered / sent,
                    100 / sent,
                    complaints / delivered,
                ],
            )


EXPERIMENT_ROWS = [
    # experiment_id, variant, is_control, metric, users, mean, lift, low, high, chance, srm
    ("subject_test", "a", True, "click", 5000, 0.040, None, None, None, None, 0.41),
    ("subject_test", "b", False, "click", 5000, 0.050, 0.25, 0.12, 0.38, 0.999, 0.41),
    ("subject_test", "a", True, "unsubscribe", 5000, 0.002, None, None, None, None, 0.41),
    ("subject_test", "b", False, "unsubscribe", 5000, 0.002, 0.01, -0.3, 0.32, 0.52, 0.41),
]


def _experiment_results(warehouse: DuckDBWarehouse) -> None:
    warehouse.execute(
        "create table analytics.experiment_results (experiment_id varchar, variant varchar, "
        "is_control boolean, metric varchar, users bigint, mean double, relative_lift double, "
        "credible_interval_low double, credible_interval_high double, "
        "chance_to_beat_control double, srm_p_value double)"
    )
    for row in EXPERIMENT_ROWS:
        warehouse.execute(
            "insert into analytics.experiment_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            list(row),
        )


@dataclass
class Site:
    """The app over a small real warehouse, and a token per role."""

    app: object
    state: AppState
    settings: Settings
    sink: SmtpSink
    tokens: dict[str, str]

    def client(self, role: str | None = None) -> TestClient:
        """A browser-like client, signed in with `role`'s token when given."""
        client = TestClient(self.app, follow_redirects=False)
        if role is not None:
            answer = client.post("/sign-in", data={"token": self.tokens[role], "next": "/"})
            assert answer.status_code == 303, answer.text
        return client


def csrf_of(html: str) -> str:
    """The CSRF token a page embeds in its forms."""
    found = re.search(rf'name="{CSRF_FIELD}" value="([0-9a-f]+)"', html)
    assert found, "the page has no form token"
    return found.group(1)


def carry_out_requests(state: AppState) -> list[str]:
    """Do what Dagster's request sensor and job do: claim queued requests and run them."""
    with state.sessions() as session:
        claimed = list(claim_pending_requests(session, 10))
        session.commit()
    for request in claimed:
        request_id, name = request.request_id, request.activation_name
        requested_by = f"request:{request_id}"
        if request.kind is RequestKind.APPROVE:
            assert request.run_id is not None
            report = state.engine.approve(request.run_id, actor=request.requested_by)
        elif request.kind is RequestKind.DRY_RUN:
            report = state.engine.dry_run(name, requested_by=requested_by, run_id=request_id)
        else:
            report = state.engine.run(name, requested_by=requested_by, run_id=request_id)
        with write_transaction(state.sessions) as session:
            mark_request(session, request_id, RequestStatus.DONE, reason=report.status)
    return [request.request_id for request in claimed]


def make_site(home: Path, sink: SmtpSink, warehouse_template: Path | None = None) -> Site:
    project = home / "dbt"
    (project / "target").mkdir(parents=True)
    (project / "target" / "manifest.json").write_text(json.dumps(manifest()))
    settings = Settings(
        home=home,
        dbt_project_dir=project,
        destinations={
            "sink": {
                "kind": "smtp",
                "config": {"host": sink.host, "port": sink.port, "starttls": False},
            }
        },
    )
    if warehouse_template is None:
        build_warehouse(settings.duckdb_file)
    else:
        shutil.copyfile(warehouse_template, settings.duckdb_file)
    app = create_app(settings)
    state: AppState = app.state.tidemark
    tokens = {}
    with state.sessions.begin() as session:
        for role in ("viewer", "marketer", "admin"):
            tokens[role] = create_token(session, name=f"{role}-person", role=role).plaintext
    return Site(app=app, state=state, settings=settings, sink=sink, tokens=tokens)


@pytest.fixture
def sink():
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def warehouse_template(tmp_path_factory) -> Path:
    """The warehouse, built once; each test gets its own copy of the file."""
    path = tmp_path_factory.mktemp("dashboards-warehouse") / "warehouse.duckdb"
    build_warehouse(path)
    return path


@pytest.fixture
def site(tmp_path, sink, warehouse_template) -> Site:
    return make_site(tmp_path, sink, warehouse_template)
