"""Provider faults through the whole engine: 429 storms and 5xx are retried after the
provider's own delay, nothing is sent twice, and the configured rate is never exceeded."""

import pytest

from activation.deliver import RetryPolicy
from activation.destinations import destination_for
from activation.engine import ActivationEngine
from activation.message_renderer import renderer_for
from connectors.settings import Settings
from tests.activation.audience import add_many, manifest_for, segment
from tests.activation.conftest import define
from tests.connectors.destinations.servers.http_server import Reply
from tests.connectors.destinations.servers.sendgrid_server import SendGridServer

API_KEY = "SG.test-key-not-a-secret-anywhere"
RATE = 40.0


@pytest.fixture
def sendgrid():
    server = SendGridServer(API_KEY)
    server.http.start()
    yield server
    server.http.stop()


@pytest.fixture
def sendgrid_settings(tmp_path, sendgrid):
    return Settings(
        home=tmp_path,
        destinations={
            "sink": {
                "kind": "sendgrid",
                "config": {"base_url": sendgrid.url, "rate_limit_per_s": RATE, "rate_burst": 1},
            }
        },
        destination_secrets={"sink": {"api_key": API_KEY}},
    )


def test_throttling_and_outages_are_retried_after_the_providers_delay(
    sendgrid_settings, warehouse, sessions, sendgrid
):
    add_many(warehouse, 60)
    define(sessions)
    sendgrid.script(
        Reply.json(429, {"errors": [{"message": "too many"}]}, {"Retry-After": "1"}),
        Reply.json(503, {"errors": [{"message": "unavailable"}]}),
        Reply.json(429, {"errors": [{"message": "too many"}]}, {"Retry-After": "1"}),
    )
    manifest = manifest_for(segment("test"), segment("other"))
    engine = ActivationEngine(
        warehouse=warehouse,
        sessions=sessions,
        manifest=lambda: manifest,
        destination_for=lambda d: destination_for(sendgrid_settings, d),
        renderer_for=lambda d: renderer_for(sendgrid_settings, d),
        policy=RetryPolicy(max_attempts=6, base_delay_s=0.2),
    )

    report = engine.run("welcome", requested_by="test")

    assert report.status == "completed" and report.counts == {"sent": 60}
    received = sendgrid.received_ids()
    assert len(received) == 60 and len(set(received)) == 60
    # After each 429 the provider hears from us again only once its Retry-After has passed.
    arrivals = [r.arrived_at for r in sendgrid.requests]
    statuses = [429, 503, 429]
    throttled = [i for i, status in enumerate(statuses) if status == 429]
    for index in throttled:
        assert arrivals[index + 1] - arrivals[index] >= 0.95
    # The configured rate holds over the accepted messages (burst of one).
    accepted = sorted(mail.arrived_at for mail in sendgrid.accepted)
    elapsed = accepted[-1] - accepted[0]
    assert elapsed >= (len(accepted) - 1) / RATE * 0.95
