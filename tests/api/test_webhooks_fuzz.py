"""The unauthenticated intake endpoints under arbitrary input: a 4xx, never a 5xx, nothing landed.

The schemathesis run over the OpenAPI spec skips these (their bodies are signed bytes, not a
schema), so Hypothesis feeds them JSON of every shape, real payloads with fields changed,
and raw bytes.
"""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.routes.webhooks import sns_certificate_loader, webhook_clock
from tests.activation.feedback.payloads import SENDGRID, SES, FixtureCertificates, load_json
from tests.api.intake import intake_app

BOUNCE = load_json(SES / "django-bouncy" / "example_bounce_notification.json")
SIGNED = load_json(SENDGRID / "signed_event_examples.json")["multiple"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
sns_like = st.fixed_dictionaries(
    {},
    optional={key: json_values | st.just(value) for key, value in BOUNCE.items()},
)
bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | sns_like.map(lambda v: json.dumps(v).encode())
)
fuzz = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


@pytest.fixture(scope="module")
def intake(tmp_path_factory):
    app = intake_app(
        tmp_path_factory.mktemp("fuzz"),
        ses_sns_topic_arns=[BOUNCE["TopicArn"]],
        sendgrid_webhook_public_key=SIGNED["public_key"],
    )
    app.app.dependency_overrides[sns_certificate_loader] = FixtureCertificates
    return app


@fuzz
@given(body=bodies)
def test_ses_webhook_answers_4xx_to_anything_unsigned(intake, body):
    response = intake.client.post("/webhooks/ses", content=body)
    assert 400 <= response.status_code < 500 or response.status_code == 503, response.text
    assert intake.landing.list() == []


@fuzz
@given(body=bodies, signature=st.text(max_size=100), timestamp=st.text(max_size=12))
def test_sendgrid_webhook_answers_4xx_to_anything_unsigned(intake, body, signature, timestamp):
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": signature.encode("ascii", "ignore").decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp.encode("ascii", "ignore").decode(),
    }
    response = intake.client.post("/webhooks/sendgrid", content=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert intake.landing.list() == []


@fuzz
@given(
    token=st.text(string.ascii_letters + string.digits + "-_.~", min_size=1, max_size=300),
    body=bodies,
)
def test_unsubscribe_answers_4xx_to_tokens_we_did_not_sign(intake, token, body):
    for response in (
        intake.client.get(f"/u/{token}"),
        intake.client.post(
            f"/u/{token}",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
    ):
        assert 400 <= response.status_code < 500, response.text
    assert intake.landing.list() == []


def test_the_clock_override_is_not_needed_for_refusals(intake):
    # Without a clock override the real fixtures' expired certificate is refused too.
    assert webhook_clock not in intake.app.dependency_overrides
    response = intake.client.post("/webhooks/ses", content=json.dumps(BOUNCE))
    assert response.status_code == 403
    assert "expired" in response.json()["detail"]
