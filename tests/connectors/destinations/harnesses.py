"""What the conformance suite needs to know about each destination and its test server.

A `Harness` builds the destination (well configured, with refused credentials, pointed at
nothing), names valid and invalid recipients, scripts the server's failures, and reads back
which of our message ids the server received. Everything else in the suite is the same for
every destination.
"""

from __future__ import annotations

import base64
import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from moto.core.authorization import enable_iam_authentication

from connectors.destinations import Channel, Destination, OutboundMessage
from connectors.destinations.registry import build_destination
from connectors.destinations.webhook import WebhookConfig, WebhookDestination
from tests.connectors.destinations.servers.http_server import Reply
from tests.connectors.destinations.servers.ports import closed_port
from tests.connectors.destinations.servers.sendgrid_server import SendGridServer
from tests.connectors.destinations.servers.ses_proxy import SesProxy, ses_error
from tests.connectors.destinations.servers.smtp_sink import SmtpSink
from tests.connectors.destinations.servers.twilio_server import TwilioServer, twilio_error
from tests.connectors.destinations.servers.webhook_receiver import WebhookReceiver

SMTP_USER = "tidemark"
SMTP_PASSWORD = "smtp-pass-7f3a9c2e1b"
SES_ACCESS_KEY_ID = "AKIATIDEMARKTEST0001"
SES_SECRET = "ses-secret-9Yh2LmQ4pRv8"
SENDGRID_KEY = "SG.tidemarkTestKey123.abcdefghijklmnopqrstuvwx"
TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "twilio-token-0a1b2c3d4e5f"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"tidemark-webhook-test-key-32byte").decode()
WRONG_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"another-key-the-receiver-refuses").decode()

SENDER = "news@example.com"
SES_DOMAIN = "example.com"
SMTP_INVALID = "nobody@invalid.example"
SMS_FROM = "+15005550006"
LOST_ANSWER_TIMEOUT_S = 0.5


def email_message(
    number: int, to: str, *, subject: str | None = None, **fields: Any
) -> OutboundMessage:
    options: dict[str, Any] = {
        "subject": subject or f"Spring picks for you #{number}",
        "text": "Our spring picks are in.\nSee them at https://shop.example.com/spring",
        "html": "<p>Our spring picks are in.</p><p><a href='https://shop.example.com/spring'>"
        "See them</a></p>",
        "from_address": SENDER,
        "from_name": "Example Shop",
        "headers": {
            "List-Unsubscribe": f"<https://t.example.com/u/{number}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }
    options.update(fields)
    return OutboundMessage(
        message_id=f"msg-{number:05d}",
        channel=Channel.EMAIL,
        to=to,
        profile_id=f"profile-{number}",
        **options,
    )


def sms_message(number: int, to: str) -> OutboundMessage:
    return OutboundMessage(
        message_id=f"msg-{number:05d}",
        channel=Channel.SMS,
        to=to,
        profile_id=f"profile-{number}",
        text=f"Example Shop: your spring picks are in (#{number}). Reply STOP to opt out.",
    )


def webhook_message(number: int, to: str) -> OutboundMessage:
    return OutboundMessage(
        message_id=f"msg-{number:05d}",
        channel=Channel.WEBHOOK,
        to=to,
        profile_id=f"profile-{number}",
        payload={"type": "segment.entered", "profile_id": f"profile-{number}", "n": number},
    )


@dataclass
class Harness:
    kind: str
    secrets: list[str]
    build: Callable[..., Destination]  # build(**config_overrides)
    build_rejected: Callable[[], Destination]  # credentials the provider refuses
    build_check_failing: Callable[[], Destination]  # a config check() must refuse
    build_unreachable: Callable[[], Destination]
    message: Callable[[int, str], OutboundMessage]
    recipient: Callable[[int], str]
    invalid_recipient: str
    received_ids: Callable[[], list[str]]  # our ids as the server accepted them, in order
    script_throttle: Callable[[], None]
    expected_retry_after: float | None
    script_server_error: Callable[[], None]
    script_lost_answer: Callable[[], None]  # the server accepts the next message, no answer
    unreachable_recipient: Callable[[int], str] | None = None
    rejecting: Callable[[], AbstractContextManager[None]] = field(
        default=lambda: contextlib.nullcontext()
    )

    def messages(self, count: int, start: int = 0) -> list[OutboundMessage]:
        return [self.message(n, self.recipient(n)) for n in range(start, start + count)]


def smtp_harness(sink: SmtpSink) -> Harness:
    sink.rcpt_replies[SMTP_INVALID] = (
        f"550 5.1.1 <{SMTP_INVALID}>: Recipient address rejected: User unknown"
    )

    def build(**overrides: Any) -> Destination:
        config = {
            "host": sink.host,
            "port": sink.port,
            "starttls": False,
            "username": SMTP_USER,
            "rate_limit_per_s": 1000,
            **overrides,
        }
        password = config.pop("password", SMTP_PASSWORD)
        return build_destination("smtp", config, {"password": password})

    def lose_answer() -> None:
        sink.drop_after_data += 1

    return Harness(
        kind="smtp",
        secrets=[SMTP_PASSWORD, "wrong-smtp-password-1"],
        build=build,
        build_rejected=lambda: build(password="wrong-smtp-password-1"),
        build_check_failing=lambda: build(password="wrong-smtp-password-1"),
        build_unreachable=lambda: build(port=closed_port()),
        message=email_message,
        recipient=lambda n: f"reader{n}@example.org",
        invalid_recipient=SMTP_INVALID,
        received_ids=sink.received_ids,
        script_throttle=lambda: sink.mail_replies.append("421 4.7.0 Too many messages, slow down"),
        expected_retry_after=None,
        script_server_error=lambda: sink.mail_replies.append("451 4.3.0 Local problem, try later"),
        script_lost_answer=lose_answer,
    )


def ses_harness(proxy: SesProxy) -> Harness:
    def build(**overrides: Any) -> Destination:
        config = {
            "endpoint_url": proxy.url,
            "region": "us-east-1",
            "access_key_id": SES_ACCESS_KEY_ID,
            "from_address": SENDER,
            "rate_limit_per_s": 1000,
            **overrides,
        }
        secret = config.pop("secret_access_key", SES_SECRET)
        return build_destination("ses", config, {"secret_access_key": secret})

    def received() -> list[str]:
        return [record.header.get("X-Tidemark-Message-Id", "") for record in proxy.accepted()]

    return Harness(
        kind="ses",
        secrets=[SES_SECRET, "wrong-ses-secret-key-1"],
        build=build,
        build_rejected=lambda: build(secret_access_key="wrong-ses-secret-key-1"),
        build_check_failing=lambda: build(secret_access_key="wrong-ses-secret-key-1"),
        build_unreachable=lambda: build(endpoint_url=f"http://127.0.0.1:{closed_port()}"),
        message=email_message,
        recipient=lambda n: f"reader{n}@example.org",
        invalid_recipient="not-an-address",
        received_ids=received,
        script_throttle=lambda: proxy.script(
            ses_error(
                429,
                "TooManyRequestsException",
                "Maximum sending rate exceeded.",
                {"Retry-After": "1"},
            )
        ),
        expected_retry_after=1.0,
        script_server_error=lambda: proxy.script(
            ses_error(500, "InternalFailure", "The request processing has failed.")
        ),
        script_lost_answer=lambda: proxy.script(Reply(200).held()),
        rejecting=_moto_checks_credentials,
    )


@contextlib.contextmanager
def _moto_checks_credentials() -> Iterator[None]:
    """moto refuses every key it did not issue while this is active (IAM authentication)."""
    with enable_iam_authentication():
        yield


def sendgrid_harness(server: SendGridServer) -> Harness:
    def build(**overrides: Any) -> Destination:
        config = {"base_url": server.url, "rate_limit_per_s": 100_000, **overrides}
        key = config.pop("api_key", SENDGRID_KEY)
        return build_destination("sendgrid", config, {"api_key": key})

    wrong_key = "SG.wrongKeyForTheTest.zyxwvutsrqponmlkjihgfedcba"
    return Harness(
        kind="sendgrid",
        secrets=[SENDGRID_KEY, wrong_key],
        build=build,
        build_rejected=lambda: build(api_key=wrong_key),
        build_check_failing=lambda: build(api_key=wrong_key),
        build_unreachable=lambda: build(base_url=f"http://127.0.0.1:{closed_port()}"),
        message=email_message,
        recipient=lambda n: f"reader{n}@example.org",
        invalid_recipient="not-an-address",
        received_ids=server.received_ids,
        script_throttle=lambda: server.script(
            Reply.json(
                429,
                {"errors": [{"field": None, "message": "too many requests"}]},
                {
                    "X-RateLimit-Limit": "600",
                    "X-RateLimit-Remaining": "0",
                    # Whole epoch seconds: 2 to 3 s away, less the time the test takes.
                    "X-RateLimit-Reset": str(int(time.time()) + 3),
                },
            )
        ),
        expected_retry_after=2.5,
        script_server_error=lambda: server.script(
            Reply.json(503, {"errors": [{"field": None, "message": "Service Unavailable"}]})
        ),
        script_lost_answer=lambda: server.script(Reply(202).held()),
    )


def sms_harness(server: TwilioServer) -> Harness:
    def build(**overrides: Any) -> Destination:
        config = {
            "base_url": server.url,
            "account_sid": TWILIO_SID,
            "from_number": SMS_FROM,
            "status_callback_url": "https://hooks.example.com/twilio/status?source=tidemark",
            "rate_limit_per_s": 1000,
            **overrides,
        }
        token = config.pop("auth_token", TWILIO_TOKEN)
        return build_destination("sms", config, {"auth_token": token})

    def received() -> list[str]:
        ids = []
        for sms in server.messages:
            query = parse_qs(urlsplit(sms.form.get("StatusCallback", "")).query)
            ids.append(query.get("tidemark_message_id", [""])[0])
        return ids

    return Harness(
        kind="sms",
        secrets=[TWILIO_TOKEN, "wrong-twilio-token-99"],
        build=build,
        build_rejected=lambda: build(auth_token="wrong-twilio-token-99"),
        build_check_failing=lambda: build(auth_token="wrong-twilio-token-99"),
        build_unreachable=lambda: build(base_url=f"http://127.0.0.1:{closed_port()}"),
        message=sms_message,
        recipient=lambda n: f"+1415555{n:04d}",
        invalid_recipient="12345",
        received_ids=received,
        script_throttle=lambda: server.script(
            _with_headers(twilio_error(429, 20429, "Too Many Requests"), {"Retry-After": "1"})
        ),
        expected_retry_after=1.0,
        script_server_error=lambda: server.script(
            twilio_error(500, 20500, "Internal Server Error")
        ),
        script_lost_answer=lambda: server.script(Reply(201).held()),
    )


def webhook_harness(receiver: WebhookReceiver) -> Harness:
    def build(**overrides: Any) -> Destination:
        config = {
            "signing_secret": WEBHOOK_SECRET,
            "require_https": False,
            "rate_limit_per_s": 1000,
            **overrides,
        }
        # Built directly: allow_private (the receiver is on 127.0.0.1) is not configuration.
        return WebhookDestination(WebhookConfig.model_validate(config), allow_private=True)

    port = closed_port()
    return Harness(
        kind="webhook",
        secrets=[WEBHOOK_SECRET, WRONG_WEBHOOK_SECRET],
        build=build,
        build_rejected=lambda: build(signing_secret=WRONG_WEBHOOK_SECRET),
        build_check_failing=lambda: build(signing_secret="whsec_not base64!"),
        build_unreachable=build,
        message=webhook_message,
        recipient=lambda n: f"{receiver.url}/hooks/tidemark",
        invalid_recipient=f"{receiver.url}/gone",
        received_ids=lambda: [attempt.webhook_id for attempt in receiver.deliveries],
        script_throttle=lambda: receiver.script(
            Reply.json(429, {"error": "slow down"}, {"Retry-After": "1"})
        ),
        expected_retry_after=1.0,
        script_server_error=lambda: receiver.script(Reply.json(503, {"error": "maintenance"})),
        script_lost_answer=lambda: receiver.script(Reply.json(200, {"ok": True}).held()),
        unreachable_recipient=lambda n: f"http://127.0.0.1:{port}/hooks/tidemark",
    )


def _with_headers(reply: Reply, headers: dict[str, str]) -> Reply:
    reply.headers.update(headers)
    return reply
