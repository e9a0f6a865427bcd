"""SES specifics against moto's server: the SendEmail request, the quota and the sender check."""

from __future__ import annotations

from typing import Any

import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from connectors.destinations import DestinationConfigError, ErrorClass, SendStatus
from connectors.destinations.registry import build_destination
from connectors.destinations.ses import SesDestination
from tests.connectors.destinations.harnesses import (
    SENDER,
    SES_ACCESS_KEY_ID,
    SES_SECRET,
    email_message,
)
from tests.connectors.destinations.servers.ses_proxy import SesProxy


def ses(proxy: SesProxy, **config: Any) -> SesDestination:
    destination = build_destination(
        "ses",
        {
            "endpoint_url": proxy.url,
            "access_key_id": SES_ACCESS_KEY_ID,
            "from_address": SENDER,
            **config,
        },
        {"secret_access_key": SES_SECRET},
    )
    assert isinstance(destination, SesDestination)
    return destination


def moto_message_ids() -> set[str]:
    return {message.id for message in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages}


def test_the_send_email_request_carries_our_id_as_header_and_tag(ses_proxy: SesProxy) -> None:
    message = email_message(
        4,
        "reader@example.org",
        reply_to="help@example.com",
        metadata={"campaign": "spring sale!"},
    )
    with ses(ses_proxy, configuration_set_name="tidemark-events", rate_limit_per_s=100) as dest:
        [outcome] = dest.send_batch([message])
    assert outcome.status is SendStatus.SENT
    assert outcome.provider_message_id in moto_message_ids()  # SES (moto) has the email
    [record] = ses_proxy.accepted()
    request = record.request
    assert request["FromEmailAddress"] == "Example Shop <news@example.com>"
    assert request["Destination"] == {"ToAddresses": ["reader@example.org"]}
    assert request["ReplyToAddresses"] == ["help@example.com"]
    assert request["ConfigurationSetName"] == "tidemark-events"
    simple = request["Content"]["Simple"]
    assert simple["Subject"]["Data"] == message.subject
    assert set(simple["Body"]) == {"Text", "Html"}
    assert record.header["X-Tidemark-Message-Id"] == "msg-00004"
    assert record.header["List-Unsubscribe"] == "<https://t.example.com/u/4>"
    # Tag values may only hold letters, digits, '_' and '-': others are replaced.
    assert record.tags == {"tidemark_message_id": "msg-00004", "campaign": "spring_sale_"}


def test_check_adopts_the_accounts_max_send_rate(ses_proxy: SesProxy) -> None:
    ses_proxy.max_send_rate = 14
    with ses(ses_proxy) as destination:
        assert destination.rate_limit_per_s == 1  # the sandbox rate, until SES says more
        destination.check()
        assert destination.rate_limit_per_s == 14
    with ses(ses_proxy, rate_limit_per_s=5) as destination:
        destination.check()
        assert destination.rate_limit_per_s == 5  # a lower configured rate wins


def test_check_refuses_a_sender_that_is_not_verified(ses_proxy: SesProxy) -> None:
    with (
        ses(ses_proxy, from_address="news@unverified.example") as destination,
        pytest.raises(DestinationConfigError, match="not a verified identity"),
    ):
        destination.check()


def test_a_rejected_message_fails_alone(ses_proxy: SesProxy) -> None:
    messages = [
        email_message(1, "a@example.org"),
        email_message(2, "b@example.org", from_address="someone@unverified.example"),
        email_message(3, "c@example.org"),
    ]
    with ses(ses_proxy, rate_limit_per_s=100) as destination:
        outcomes = destination.send_batch(messages)
    assert [o.status for o in outcomes] == [SendStatus.SENT, SendStatus.FAILED, SendStatus.SENT]
    assert outcomes[1].error_class is ErrorClass.FATAL_MESSAGE
    assert outcomes[1].error_code == "MessageRejected"
