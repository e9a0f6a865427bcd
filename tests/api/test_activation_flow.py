"""A marketer's flow over JSON: create → preview → dry-run → trigger → the run completes.

Runs are requests carried out by Dagster: the test ticks the real sensor and executes the
real job in process, as `dagster dev` would, against the demo warehouse and an SMTP sink.
"""

import dagster as dg
import duckdb
import pytest

from dagster_project.defs.activation.requests import (
    activation_request_job,
    activation_requests_sensor,
)
from dagster_project.resources import TidemarkResource

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt")]

SEGMENT = "high_value"


def definition(name, **changes):
    return {
        "name": name,
        "segment": SEGMENT,
        "destination": "demo_smtp",
        "channel": "email",
        "message": {
            "subject": "A thank-you, {{ first_name | default('friend') }}",
            "from_address": "shop@example.com",
            "html": "<p>Hi {{ first_name }}</p><a href='{{ unsubscribe_url }}'>unsubscribe</a>",
        },
        "quiet_hours": None,
        "frequency_cap": None,
        **changes,
    }


def carry_out_requests(core):
    """What the Dagster sensor and job do with pending requests: launch once, run each."""
    resources = {"tidemark": TidemarkResource(home=str(core.settings.home))}
    tick = activation_requests_sensor(dg.build_sensor_context(resources=resources))
    launched = [] if isinstance(tick, dg.SkipReason) else tick.run_requests
    for request in launched:
        activation_request_job.execute_in_process(
            run_config=request.run_config, resources=resources, raise_on_error=False
        )
    return [request.run_key for request in launched]


def test_create_dry_run_trigger_and_watch_the_run_complete(core, smtp_sink):
    client, marketer, admin = core.client, core.headers["marketer"], core.headers["admin"]

    created = client.post("/api/v1/activations", json=definition("thanks_vip"), headers=marketer)
    assert created.status_code == 201, created.text
    preview = client.post("/api/v1/activations/thanks_vip/preview", json={}, headers=marketer)
    assert preview.status_code == 200, preview.text
    assert preview.json()["subject"].startswith("A thank-you, ")
    assert "@" in preview.json()["to"] and "/u/" in preview.json()["html"]
    segment = client.get(f"/api/v1/segments/{SEGMENT}", headers=marketer).json()
    email = next(r for r in segment["reach"] if r["channel"] == "email")

    dry = client.post("/api/v1/activations/thanks_vip/dry-run", headers=marketer)
    assert dry.status_code == 202 and dry.json()["status"] == "pending"
    assert client.get(dry.json()["status_url"], headers=marketer).json()["status"] == "pending"
    assert carry_out_requests(core) == [dry.json()["request_id"]]

    planned = client.get(dry.json()["status_url"], headers=marketer).json()
    assert (planned["kind"], planned["status"]) == ("dry_run", "planned")
    assert planned["planned"] == email["reachable"] > 0
    assert planned["plan"]["excluded"] == email["excluded"]
    assert planned["sent"] == 0 and len(smtp_sink.received) == 0

    run = client.post(
        "/api/v1/activations/thanks_vip/trigger", json={"request_id": "click-1"}, headers=marketer
    )
    again = client.post(
        "/api/v1/activations/thanks_vip/trigger", json={"request_id": "click-1"}, headers=marketer
    )
    assert run.status_code == again.status_code == 202
    assert carry_out_requests(core) == ["click-1"]  # the retried click launched nothing more

    done = client.get("/api/v1/runs/click-1", headers=marketer).json()
    assert done["status"] == "completed", done
    assert done["sent"] == done["planned"] == email["reachable"]
    assert done["failed"] == done["in_doubt"] == done["pending"] == 0
    assert len(smtp_sink.received) == done["sent"]
    assert "run_key" in done["dagster_run_url"]
    listed = client.get("/api/v1/runs?activation=thanks_vip", headers=marketer).json()
    assert {r["run_id"] for r in listed["data"]} == {dry.json()["run_id"], "click-1"}
    detail = client.get("/api/v1/activations/thanks_vip", headers=marketer).json()
    assert detail["runs"][0]["run_id"] == "click-1"

    actions = [
        e["action"]
        for e in client.get("/api/v1/audit?resource_id=thanks_vip", headers=admin).json()["data"]
    ]
    assert actions == [
        "activation.run_requested",
        "activation.run_requested",
        "activation.dry_run_requested",
        "activation.create",
    ]
    with duckdb.connect(str(core.settings.duckdb_file), read_only=True) as con:
        mirrored = con.execute(
            "select action from tidemark.audit_log where resource_id = 'thanks_vip' order by id"
        ).fetchall()
    assert [a for (a,) in mirrored] == list(reversed(actions))  # analysts see the same trail


def test_a_held_run_waits_for_an_admin_and_then_delivers(core, smtp_sink):
    client, marketer, admin = core.client, core.headers["marketer"], core.headers["admin"]
    body = definition("vip_capped", limits={"max_change": 0})
    assert client.post("/api/v1/activations", json=body, headers=marketer).status_code == 201
    client.post(
        "/api/v1/activations/vip_capped/trigger", json={"request_id": "r1"}, headers=marketer
    )
    carry_out_requests(core)
    held = client.get("/api/v1/runs/r1", headers=marketer).json()
    assert held["status"] == "awaiting_approval" and "max_change" in held["reason"]
    assert len(smtp_sink.received) == 0

    refused = client.post("/api/v1/runs/r1/approve", headers=marketer)
    approved = client.post("/api/v1/runs/r1/approve", headers=admin)
    twice = client.post("/api/v1/runs/r1/approve", headers=admin)

    assert refused.status_code == 403
    assert approved.status_code == twice.status_code == 202
    # The API only queued it: nothing is sent until Dagster carries the approval out.
    for answer in (approved, twice, client.get("/api/v1/runs/r1", headers=marketer)):
        queued = answer.json()
        assert (queued["status"], queued["approval"]) == ("awaiting_approval", "pending")
        assert queued["approval_requested_by"] == "token:test-admin"
    assert len(smtp_sink.received) == 0

    [approval] = carry_out_requests(core)  # one request, however many clicks

    done = client.get("/api/v1/runs/r1", headers=marketer).json()
    assert done["status"] == "completed" and done["sent"] == done["planned"] > 0
    assert done["approval"] is None
    assert len(smtp_sink.received) == done["sent"]
    late = client.post("/api/v1/runs/r1/approve", headers=admin)
    assert late.status_code == 409 and "only a run awaiting approval" in late.json()["detail"]
    assert client.get(f"/api/v1/runs/{approval}", headers=admin).json()["status"] == "done"
    entries = client.get(
        "/api/v1/audit?resource_type=activation_run&resource_id=r1", headers=admin
    ).json()["data"]
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("activation_run.approve", "token:test-admin"),
        ("activation_run.approve_requested", "token:test-admin"),
    ]
    assert entries[0]["before"] == {"status": "awaiting_approval"}


def test_cancel_stops_a_queued_request(core, smtp_sink):
    client, marketer = core.client, core.headers["marketer"]
    assert (
        client.post(
            "/api/v1/activations", json=definition("vip_once"), headers=marketer
        ).status_code
        == 201
    )
    client.post("/api/v1/activations/vip_once/trigger", json={"request_id": "q1"}, headers=marketer)

    cancelled = client.post("/api/v1/activations/vip_once/cancel", headers=marketer)

    assert cancelled.status_code == 200 and cancelled.json()["requests"] == ["q1"]
    assert carry_out_requests(core) == []
    assert client.get("/api/v1/runs/q1", headers=marketer).json()["status"] == "skipped"
    assert len(smtp_sink.received) == 0
