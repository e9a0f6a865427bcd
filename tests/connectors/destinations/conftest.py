"""Test servers for the destination tests, each started on 127.0.0.1 and stopped after the test.

`harness` runs a test once per destination (smtp, ses, sendgrid, webhook, sms) against its
server: that is the conformance suite's parametrization.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.connectors.destinations.harnesses import (
    SENDGRID_KEY,
    SES_DOMAIN,
    SMTP_PASSWORD,
    SMTP_USER,
    TWILIO_SID,
    TWILIO_TOKEN,
    WEBHOOK_SECRET,
    Harness,
    sendgrid_harness,
    ses_harness,
    sms_harness,
    smtp_harness,
    webhook_harness,
)
from tests.connectors.destinations.servers.sendgrid_server import SendGridServer
from tests.connectors.destinations.servers.ses_proxy import SesProxy
from tests.connectors.destinations.servers.smtp_sink import SmtpSink
from tests.connectors.destinations.servers.twilio_server import TwilioServer
from tests.connectors.destinations.servers.webhook_receiver import WebhookReceiver
from tests.fixtures.s3_server import MotoServer

DESTINATION_KINDS = ["smtp", "ses", "sendgrid", "webhook", "sms"]


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink(username=SMTP_USER, password=SMTP_PASSWORD).start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def sendgrid_server() -> Iterator[SendGridServer]:
    server = SendGridServer(SENDGRID_KEY)
    server.http.start()
    try:
        yield server
    finally:
        server.http.stop()


@pytest.fixture
def twilio_server() -> Iterator[TwilioServer]:
    server = TwilioServer(TWILIO_SID, TWILIO_TOKEN)
    server.http.start()
    try:
        yield server
    finally:
        server.http.stop()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(WEBHOOK_SECRET)
    receiver.http.start()
    try:
        yield receiver
    finally:
        receiver.http.stop()


@pytest.fixture(scope="session")
def ses_verified_domain(moto_server: MotoServer) -> str:
    """The sender domain, a verified identity in moto's SES (moto refuses other senders)."""
    ses = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client("sesv2", endpoint_url=moto_server.endpoint_url)
    try:
        ses.create_email_identity(EmailIdentity=SES_DOMAIN)
    except ClientError as error:
        if error.response["Error"]["Code"] != "AlreadyExistsException":
            raise
    return SES_DOMAIN


@pytest.fixture
def ses_proxy(
    moto_server: MotoServer, ses_verified_domain: str, aws_test_credentials: None
) -> Iterator[SesProxy]:
    proxy = SesProxy(moto_server.endpoint_url)
    proxy.http.start()
    try:
        yield proxy
    finally:
        proxy.http.stop()


@pytest.fixture(params=DESTINATION_KINDS)
def harness(request: pytest.FixtureRequest) -> Harness:
    kind = request.param
    if kind == "smtp":
        return smtp_harness(request.getfixturevalue("smtp_sink"))
    if kind == "ses":
        return ses_harness(request.getfixturevalue("ses_proxy"))
    if kind == "sendgrid":
        return sendgrid_harness(request.getfixturevalue("sendgrid_server"))
    if kind == "webhook":
        return webhook_harness(request.getfixturevalue("webhook_receiver"))
    return sms_harness(request.getfixturevalue("twilio_server"))
