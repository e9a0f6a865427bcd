"""SendGrid specifics: how messages are split into requests, partial rejections, pacing."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from connectors.destinations import DestinationConfigError, ErrorClass, SendStatus
from connectors.destinations.registry import build_destination
from connectors.destinations.sendgrid import SendGridDestination
from tests.connectors.destinations.harnesses import SENDGRID_KEY, email_message
from tests.connectors.destinations.servers.http_server import Reply
from tests.connectors.destinations.servers.sendgrid_server import SendGridServer


def sendgrid(server: SendGridServer, **config: Any) -> SendGridDestination:
    destination = build_destination(
        "sendgrid",
        {"base_url": server.url, "rate_limit_per_s": 100_000, **config},
        {"api_key": SENDGRID_KEY},
    )
    assert isinstance(destination, SendGridDestination)
    return destination


def personalization_counts(server: SendGridServer) -> list[int]:
    return [len(request.json()["personalizations"]) for request in server.requests]


def test_2500_messages_go_in_three_requests_of_at_most_1000(
    sendgrid_server: SendGridServer,
) -> None:
    messages = [email_message(n, f"reader{n}@example.org") for n in range(2500)]
    with sendgrid(sendgrid_server) as destination:
        outcomes = destination.send_batch(messages)
    assert personalization_counts(sendgrid_server) == [1000, 1000, 500]
    assert sendgrid_server.rejections == []
    assert [o.message_id for o in outcomes] == [m.message_id for m in messages]
    assert all(o.status is SendStatus.SENT for o in outcomes)
    assert Counter(sendgrid_server.received_ids()) == Counter(m.message_id for m in messages)
    # The provider id is the request's X-Message-Id: three requests, three ids.
    assert len({o.provider_message_id for o in outcomes}) == 3


def test_the_same_address_twice_goes_in_separate_requests(sendgrid_server: SendGridServer) -> None:
    messages = [
        email_message(1, "ana@example.org"),
        email_message(2, "bo@example.org"),
        email_message(3, "Ana@Example.org"),  # the same mailbox, written differently
        email_message(4, "cy@example.org"),
        email_message(5, "ana@example.org"),
    ]
    with sendgrid(sendgrid_server) as destination:
        outcomes = destination.send_batch(messages)
    assert all(o.status is SendStatus.SENT for o in outcomes)
    assert sendgrid_server.rejections == []
    assert personalization_counts(sendgrid_server) == [3, 1, 1]
    for request in sendgrid_server.requests:
        addresses = [p["to"][0]["email"].lower() for p in request.json()["personalizations"]]
        assert len(addresses) == len(set(addresses))


def test_messages_with_different_bodies_are_not_mixed(sendgrid_server: SendGridServer) -> None:
    messages = [
        email_message(1, "a@example.org"),
        email_message(2, "b@example.org", html="<p>Another body</p>"),
        email_message(3, "c@example.org"),
        email_message(4, "d@example.org", from_address="offers@example.com"),
    ]
    with sendgrid(sendgrid_server) as destination:
        destination.send_batch(messages)
    assert personalization_counts(sendgrid_server) == [2, 1, 1]
    bodies = [request.json() for request in sendgrid_server.requests]
    assert bodies[1]["content"][-1]["value"] == "<p>Another body</p>"
    assert bodies[2]["from"]["email"] == "offers@example.com"


def test_the_request_carries_our_id_headers_and_body(sendgrid_server: SendGridServer) -> None:
    message = email_message(
        3, "reader@example.org", reply_to="help@example.com", metadata={"campaign": "spring"}
    )
    with sendgrid(sendgrid_server) as destination:
        destination.send_batch([message])
    body = sendgrid_server.requests[0].json()
    [personalization] = body["personalizations"]
    assert personalization["custom_args"] == {
        "campaign": "spring",
        "tidemark_message_id": "msg-00003",
    }
    assert personalization["headers"]["X-Tidemark-Message-Id"] == "msg-00003"
    assert personalization["headers"]["List-Unsubscribe"] == "<https://t.example.com/u/3>"
    assert personalization["subject"] == message.subject
    assert body["from"] == {"email": "news@example.com", "name": "Example Shop"}
    assert body["reply_to"] == {"email": "help@example.com"}
    assert [part["type"] for part in body["content"]] == ["text/plain", "text/html"]


def test_an_invalid_address_fails_alone_and_the_rest_are_sent_again(
    sendgrid_server: SendGridServer,
) -> None:
    messages = [email_message(n, f"reader{n}@example.org") for n in range(6)]
    messages[4] = email_message(4, "reader4-at-example.org")
    with sendgrid(sendgrid_server) as destination:
        outcomes = destination.send_batch(messages)
    assert personalization_counts(sendgrid_server) == [6, 5]  # refused whole, then again
    assert outcomes[4].error_class is ErrorClass.FATAL_MESSAGE
    assert "Does not contain a valid address" in (outcomes[4].error_message or "")
    assert [o.status for o in outcomes[:4] + outcomes[5:]] == [SendStatus.SENT] * 5
    assert sorted(sendgrid_server.received_ids()) == sorted(
        m.message_id for i, m in enumerate(messages) if i != 4
    )


def test_check_requires_the_mail_send_scope(sendgrid_server: SendGridServer) -> None:
    sendgrid_server.scopes = ["stats.read"]
    with (
        sendgrid(sendgrid_server) as destination,
        pytest.raises(DestinationConfigError, match=r"lacks the mail\.send scope"),
    ):
        destination.check()


def test_a_rate_limit_reset_holds_back_the_next_requests(sendgrid_server: SendGridServer) -> None:
    sendgrid_server.script(
        Reply.json(
            429,
            {"errors": [{"field": None, "message": "too many requests"}]},
            {"X-RateLimit-Reset": str(int(time.time()) + 2)},  # epoch seconds
        )
    )
    with sendgrid(sendgrid_server) as destination:
        [throttled] = destination.send_batch([email_message(1, "a@example.org")])
        throttled_at = time.monotonic()
        [sent] = destination.send_batch([email_message(2, "b@example.org")])
    assert throttled.error_class is ErrorClass.RETRIABLE
    assert throttled.retry_after_s is not None
    assert 1 <= throttled.retry_after_s <= 2
    assert sent.status is SendStatus.SENT
    # The shared bucket honoured the reset: the next request waited for it.
    arrived = sendgrid_server.accepted[0].arrived_at
    assert arrived - throttled_at >= throttled.retry_after_s - 0.05


def test_the_send_rate_measured_at_the_server_stays_within_the_limit(
    sendgrid_server: SendGridServer,
) -> None:
    rate, burst = 200, 10
    messages = [email_message(n, f"reader{n}@example.org") for n in range(150)]
    with sendgrid(sendgrid_server, rate_limit_per_s=rate, rate_burst=burst) as destination:
        outcomes = destination.send_batch(messages)
    assert all(o.status is SendStatus.SENT for o in outcomes)
    assert max(personalization_counts(sendgrid_server)) <= burst  # paced, not one big request
    arrivals = sorted(mail.arrived_at for mail in sendgrid_server.accepted)
    assert len(arrivals) == 150
    elapsed = arrivals[-1] - arrivals[0]
    # After the initial burst, messages arrive no faster than the rate (5% for clock jitter).
    assert (len(arrivals) - burst) / elapsed <= rate * 1.05
    # And pacing is not needlessly slow.
    assert (len(arrivals) - burst) / elapsed >= rate * 0.5
