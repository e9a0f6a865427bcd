"""SendGrid specifics: how messages are split into requests, partial rejections, pacing."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest

from connectors.destinations import DestinationConfigError, ErrorClass, SendStatus
from connectors.destinations.message import OutboundMessage
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


def received_bodies(server: SendGridServer) -> dict[str, tuple[str, str]]:
    """Each accepted message's text and HTML as its recipient gets them, by our message id."""
    received = {}
    for mail in server.accepted:
        parts = {part["type"]: part["value"] for part in mail.content}
        received[mail.custom_args["tidemark_message_id"]] = (
            parts["text/plain"],
            parts["text/html"],
        )
    return received


def personalised(number: int, to: str, name: str, **fields: Any) -> OutboundMessage:
    """An email as a template renders it: shared lines, a name and a signed link per recipient."""
    link = f"https://t.example.com/u/{number}?sig={number * 7919:x}"
    return email_message(
        number,
        to,
        text=f"Hello {name},\nOur spring picks are in.\nUnsubscribe: {link}",
        html=f"<html><body>\n<p>Hello {name}!</p>\n<p>Our spring picks are in.</p>\n"
        f'<p><a href="{link}">Unsubscribe</a></p>\n</body></html>',
        **fields,
    )


def test_personalised_bodies_share_requests_and_each_recipient_gets_their_own(
    sendgrid_server: SendGridServer,
) -> None:
    messages = [personalised(n, f"reader{n}@example.org", f"Reader {n}") for n in range(1500)]
    with sendgrid(sendgrid_server) as destination:
        outcomes = destination.send_batch(messages)
    assert personalization_counts(sendgrid_server) == [1000, 500]
    assert sendgrid_server.rejections == []
    assert all(o.status is SendStatus.SENT for o in outcomes)
    assert received_bodies(sendgrid_server) == {m.message_id: (m.text, m.html) for m in messages}
    # What is common travels once: the shared body holds no recipient's name or link.
    first = sendgrid_server.requests[0].json()
    assert "Our spring picks are in." in first["content"][1]["value"]
    assert "Reader 1" not in first["content"][1]["value"]
    assert "Reader 1" in json.dumps(first["personalizations"][1]["substitutions"])


def test_senders_and_body_shapes_are_not_mixed(sendgrid_server: SendGridServer) -> None:
    messages = [
        email_message(1, "a@example.org"),
        email_message(
            2,
            "b@example.org",
            html="<p>Our autumn picks are in.</p><p><a href='https://shop.example.com/autumn'>"
            "See them</a></p>",
        ),
        email_message(3, "c@example.org"),
        email_message(4, "d@example.org", from_address="offers@example.com"),
        email_message(5, "e@example.org", html="<p>Two</p>\n<p>lines</p>"),
    ]
    with sendgrid(sendgrid_server) as destination:
        destination.send_batch(messages)
    assert personalization_counts(sendgrid_server) == [3, 1, 1]
    bodies = [request.json() for request in sendgrid_server.requests]
    assert bodies[1]["from"]["email"] == "offers@example.com"
    assert received_bodies(sendgrid_server) == {m.message_id: (m.text, m.html) for m in messages}


def test_bodies_beyond_sendgrids_substitution_limits_go_in_requests_of_their_own(
    sendgrid_server: SendGridServer,
) -> None:
    # 11 KB of recipient-specific lines: more than 10,000 bytes of substitutions.
    long = [
        email_message(
            n,
            f"long{n}@example.org",
            html="<h1>Hi</h1>\n" + "\n".join(f"<p>{n}: {'x' * 1000}</p>" for _ in range(11)),
        )
        for n in range(3)
    ]
    # 150 recipient-specific lines between shared ones: more than 100 substitutions.
    many = [
        email_message(
            10 + n,
            f"many{n}@example.org",
            html="\n<hr>\n".join(f"<p>{n}.{k}</p>" for k in range(150)),
        )
        for n in range(3)
    ]
    small = [personalised(20 + n, f"small{n}@example.org", f"Reader {n}") for n in range(4)]
    with sendgrid(sendgrid_server) as destination:
        outcomes = destination.send_batch(long + many + small)
    assert sendgrid_server.rejections == []
    assert all(o.status is SendStatus.SENT for o in outcomes)
    assert personalization_counts(sendgrid_server) == [1, 1, 1, 1, 1, 1, 4]
    assert received_bodies(sendgrid_server) == {
        m.message_id: (m.text, m.html) for m in long + many + small
    }


def test_a_rejected_personalised_recipient_fails_alone_and_the_others_get_their_own_body(
    sendgrid_server: SendGridServer,
) -> None:
    messages = [personalised(n, f"reader{n}@example.org", f"Reader {n}") for n in range(5)]
    messages[2] = personalised(2, "reader2-at-example.org", "Reader 2")
    with sendgrid(sendgrid_server) as destination:
        outcomes = destination.send_batch(messages)
    assert personalization_counts(sendgrid_server) == [5, 4]
    assert outcomes[2].error_class is ErrorClass.FATAL_MESSAGE
    assert received_bodies(sendgrid_server) == {
        m.message_id: (m.text, m.html) for i, m in enumerate(messages) if i != 2
    }


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
            # Epoch seconds; whole seconds, so the delay is 2 to 3 s less the time taken.
            {"X-RateLimit-Reset": str(int(time.time()) + 3)},
        )
    )
    with sendgrid(sendgrid_server) as destination:
        [throttled] = destination.send_batch([email_message(1, "a@example.org")])
        throttled_at = time.monotonic()
        [sent] = destination.send_batch([email_message(2, "b@example.org")])
    assert throttled.error_class is ErrorClass.RETRIABLE
    assert throttled.retry_after_s is not None
    assert 1 <= throttled.retry_after_s <= 3
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
