"""Provider webhooks with the real signed payloads: verified events land, forgeries land nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from activation.feedback import subscription_arn_from_confirmation
from api.routes.webhooks import sns_certificate_loader, sns_subscription_confirmer, webhook_clock
from connectors.loader import load_landing_files
from connectors.ops_store import AuditEntry, list_audit
from connectors.warehouse.duckdb import DuckDBWarehouse
from tests.activation.feedback.payloads import SENDGRID, SES, FixtureCertificates, load_json
from tests.api.intake import intake_app

BOUNCY = SES / "django-bouncy"
TOPIC = "arn:aws:sns:us-east-1:250214102493:Demo_App_Unsubscribes"
BOUNCY_ERA = datetime(2014, 1, 1, tzinfo=UTC)  # the fixture certificate's validity
SIGNED = load_json(SENDGRID / "signed_event_examples.json")
SG_SIGNATURE = SIGNED["header_names"]["signature"]
SG_TIMESTAMP = SIGNED["header_names"]["timestamp"]


@pytest.fixture
def ses(tmp_path):
    intake = intake_app(tmp_path, ses_sns_topic_arns=[TOPIC])
    confirmed: list[str] = []

    def confirm(url: str) -> str:  # SNS's answer to the GET, from the fixture
        confirmed.append(url)
        return subscription_arn_from_confirmation(
            (BOUNCY / "example_confirmsubscription.xml").read_bytes()
        )

    intake.app.dependency_overrides[sns_certificate_loader] = FixtureCertificates
    intake.app.dependency_overrides[sns_subscription_confirmer] = lambda: confirm
    intake.app.dependency_overrides[webhook_clock] = lambda: BOUNCY_ERA
    intake.confirmed = confirmed
    return intake


def post_sns(intake, message):
    return intake.client.post(
        "/webhooks/ses",
        content=json.dumps(message),
        headers={"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "x"},
    )


@pytest.mark.parametrize(
    ("name", "event_type", "recipient"),
    [
        ("example_bounce_notification.json", "bounce", "username@example.com"),
        ("example_complaint_notification.json", "complaint", "recipient1@example.com"),
    ],
)
def test_signed_ses_notifications_land_and_load(ses, tmp_path, name, event_type, recipient):
    response = post_sns(ses, load_json(BOUNCY / name))

    assert response.status_code == 200, response.text
    assert response.json()["landed"] == 1
    warehouse = DuckDBWarehouse(tmp_path / "check.duckdb")
    assert load_landing_files(ses.landing, warehouse).rows_by_dataset() == {"message_events": 1}
    rows = warehouse.query_arrow(
        "select provider, event_type, recipient from raw.message_events"
    ).to_pylist()
    assert rows == [{"provider": "ses", "event_type": event_type, "recipient": recipient}]


def test_a_subscription_confirmation_is_confirmed_and_audited(ses):
    message = load_json(BOUNCY / "example_subscriptionconfirmation.json")

    response = post_sns(ses, message)

    assert response.status_code == 200, response.text
    assert response.json()["subscription_arn"].startswith(TOPIC + ":")
    assert ses.confirmed == [message["SubscribeURL"]]
    assert ses.landing.list() == []
    with ses.sessions() as session:
        [entry] = list_audit(session, resource_type="sns_topic")
        assert (entry.action, entry.resource_id) == ("sns.subscription.confirm", TOPIC)


def test_a_tampered_ses_notification_is_refused_and_nothing_lands(ses):
    message = load_json(BOUNCY / "example_bounce_notification.json")
    message["Message"] = message["Message"].replace("username@", "usernamf@")

    response = post_sns(ses, message)

    assert response.status_code == 403
    assert "signature does not match" in response.json()["detail"]
    assert ses.landing.list() == []


def test_a_forged_confirmation_is_never_followed(ses):
    message = load_json(BOUNCY / "example_subscriptionconfirmation.json")
    message["SubscribeURL"] = message["SubscribeURL"].replace("Action=", "Action=X")

    assert post_sns(ses, message).status_code == 403
    assert ses.confirmed == []


def test_a_notification_from_a_topic_we_did_not_subscribe_is_refused(tmp_path):
    intake = intake_app(tmp_path, ses_sns_topic_arns=["arn:aws:sns:us-east-1:1:ours"])
    intake.app.dependency_overrides[sns_certificate_loader] = FixtureCertificates
    intake.app.dependency_overrides[webhook_clock] = lambda: BOUNCY_ERA

    response = post_sns(intake, load_json(BOUNCY / "example_bounce_notification.json"))

    assert response.status_code == 403
    assert "is not one we subscribed to" in response.json()["detail"]
    assert intake.landing.list() == []


def test_an_unreachable_certificate_asks_sns_to_retry(ses):
    ses.app.dependency_overrides[sns_certificate_loader] = lambda: FixtureCertificates({})

    response = post_sns(ses, load_json(BOUNCY / "example_bounce_notification.json"))

    assert response.status_code == 503
    assert ses.landing.list() == []


def sendgrid_app(tmp_path, case):
    intake = intake_app(tmp_path, sendgrid_webhook_public_key=SIGNED[case]["public_key"])
    signed_at = datetime.fromtimestamp(int(SIGNED[case]["headers"][SG_TIMESTAMP]), UTC)
    intake.app.dependency_overrides[webhook_clock] = lambda: signed_at + timedelta(seconds=20)
    return intake


def post_sendgrid(intake, case, payload=None, signature=None):
    headers = dict(SIGNED[case]["headers"])
    if signature is not None:
        headers[SG_SIGNATURE] = signature
    body = SIGNED[case]["payload"].encode() if payload is None else payload
    return intake.client.post(
        "/webhooks/sendgrid", content=body, headers={**headers, "Content-Type": "application/json"}
    )


def test_a_signed_sendgrid_batch_lands_every_event(tmp_path):
    intake = sendgrid_app(tmp_path, "multiple")

    response = post_sendgrid(intake, "multiple")

    assert response.status_code == 200, response.text
    assert response.json()["landed"] == 2 and response.json()["rejected"] == []
    warehouse = DuckDBWarehouse(tmp_path / "check.duckdb")
    load_landing_files(intake.landing, warehouse)
    rows = warehouse.query_arrow(
        "select event_type, bounce_type, recipient from raw.message_events order by occurred_at"
    ).to_pylist()
    assert rows == [
        {"event_type": "sent", "bounce_type": None, "recipient": "invalid@gmail.com"},
        {"event_type": "bounce", "bounce_type": "soft", "recipient": "invalid@gmail.com"},
    ]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: (p.replace(b"dropped", b"dropped "), None),
        lambda p: (p, SIGNED["single"]["negative_cases"]["wrong_signature"]),
        lambda p: (p, ""),
    ],
    ids=["changed-body", "wrong-signature", "no-signature"],
)
def test_a_sendgrid_batch_that_fails_its_signature_lands_nothing(tmp_path, tamper):
    intake = sendgrid_app(tmp_path, "single")
    payload, signature = tamper(SIGNED["single"]["payload"].encode())

    response = post_sendgrid(intake, "single", payload=payload, signature=signature)

    assert response.status_code == 403
    assert intake.landing.list() == []


def test_a_replayed_sendgrid_batch_is_refused(tmp_path):
    intake = sendgrid_app(tmp_path, "single")
    intake.app.dependency_overrides[webhook_clock] = lambda: datetime.now(UTC)

    response = post_sendgrid(intake, "single")

    assert response.status_code == 403
    assert "stale or replayed" in response.json()["detail"]
    assert intake.landing.list() == []


def test_without_a_configured_key_sendgrid_is_refused(tmp_path):
    intake = intake_app(tmp_path)

    response = post_sendgrid(intake, "single")

    assert response.status_code == 403
    assert "TIDEMARK_SENDGRID_WEBHOOK_PUBLIC_KEY" in response.json()["detail"]
    assert intake.landing.list() == []


def test_webhooks_leave_no_audit_entry_for_plain_notifications(ses):
    post_sns(ses, load_json(BOUNCY / "example_bounce_notification.json"))
    with ses.sessions() as session:
        assert session.scalars(select(AuditEntry)).all() == []
