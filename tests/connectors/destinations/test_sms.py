"""SMS specifics against the Twilio-shaped server: the form, our id's way back, error codes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.destinations import DestinationConfigError, ErrorClass, SendStatus
from connectors.destinations.registry import build_destination
from connectors.destinations.sms import SmsDestination
from tests.connectors.destinations.harnesses import SMS_FROM, TWILIO_SID, TWILIO_TOKEN, sms_message
from tests.connectors.destinations.servers.twilio_server import TwilioServer


def sms(server: TwilioServer, **config: Any) -> SmsDestination:
    destination = build_destination(
        "sms",
        {"base_url": server.url, "account_sid": TWILIO_SID, "rate_limit_per_s": 1000, **config},
        {"auth_token": TWILIO_TOKEN},
    )
    assert isinstance(destination, SmsDestination)
    return destination


def test_the_request_is_the_messages_api_form(twilio_server: TwilioServer) -> None:
    message = sms_message(3, "+14155550123")
    callback = "https://hooks.example.com/twilio/status?source=tidemark"
    with sms(twilio_server, from_number=SMS_FROM, status_callback_url=callback) as destination:
        [outcome] = destination.send_batch([message])
    [sent] = twilio_server.messages
    assert outcome.status is SendStatus.SENT
    assert outcome.provider_message_id == sent.sid
    assert sent.sid.startswith("SM")
    assert sent.form["To"] == "+14155550123"
    assert sent.form["From"] == SMS_FROM
    assert sent.form["Body"] == message.text
    status_callback = urlsplit(sent.form["StatusCallback"])
    assert status_callback.path == "/twilio/status"
    assert parse_qs(status_callback.query) == {
        "source": ["tidemark"],
        "tidemark_message_id": ["msg-00003"],  # how delivery reports find the ledger row
    }


def test_a_messaging_service_can_send_instead_of_a_number(twilio_server: TwilioServer) -> None:
    with sms(twilio_server, messaging_service_sid="MG" + "a" * 32) as destination:
        [outcome] = destination.send_batch([sms_message(1, "+14155550123")])
    assert outcome.status is SendStatus.SENT
    [sent] = twilio_server.messages
    assert "From" not in sent.form
    assert sent.form["MessagingServiceSid"] == "MG" + "a" * 32


def test_twilio_error_codes_become_outcomes(twilio_server: TwilioServer) -> None:
    messages = [
        sms_message(1, "+14155550101"),
        sms_message(2, "0800-not-e164"),
        replace(sms_message(3, "+14155550103"), text=None),
    ]
    with sms(twilio_server, from_number=SMS_FROM) as destination:
        outcomes = destination.send_batch(messages)
    assert outcomes[0].status is SendStatus.SENT
    assert outcomes[1].error_class is ErrorClass.FATAL_MESSAGE
    assert outcomes[1].error_code == "twilio_21211"
    assert "is not a valid phone number" in (outcomes[1].error_message or "")
    assert outcomes[2].error_class is ErrorClass.FATAL_MESSAGE  # refused before sending
    assert len(twilio_server.messages) == 1


def test_a_config_without_a_sender_is_refused(twilio_server: TwilioServer) -> None:
    with pytest.raises(DestinationConfigError, match="set from_number or messaging_service_sid"):
        sms(twilio_server)


def test_check_fails_for_an_account_the_token_does_not_belong_to(
    twilio_server: TwilioServer,
) -> None:
    with (
        sms(twilio_server, from_number=SMS_FROM, account_sid="AC" + "f" * 32) as destination,
        pytest.raises(DestinationConfigError) as raised,
    ):
        destination.check()
    assert "rejected the account credentials" in str(raised.value)
    # The server echoed the credentials it received; the filter removed the token.
    assert "[REDACTED]" in str(raised.value)
    assert TWILIO_TOKEN not in str(raised.value)
