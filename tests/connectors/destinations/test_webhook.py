"""Webhook specifics: Standard Webhooks signatures, retries, redirects and the SSRF guard."""

from __future__ import annotations

import ipaddress
import json
import time
from dataclasses import replace
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.destinations import DestinationConfigError, ErrorClass, FatalRunError, SendStatus
from connectors.destinations.ssrf_guard import blocked_reason
from connectors.destinations.webhook import WebhookConfig, WebhookDestination
from tests.connectors.destinations.harnesses import WEBHOOK_SECRET, webhook_message
from tests.connectors.destinations.servers.http_server import Reply
from tests.connectors.destinations.servers.webhook_receiver import WebhookReceiver


def webhook(**options: Any) -> WebhookDestination:
    config = WebhookConfig(
        signing_secret=SecretStr(WEBHOOK_SECRET),
        require_https=options.pop("require_https", False),
        rate_limit_per_s=1000,
    )
    return WebhookDestination(config, **options)


def test_the_receiver_verifies_our_signature(webhook_receiver: WebhookReceiver) -> None:
    message = webhook_message(1, f"{webhook_receiver.url}/hooks/tidemark")
    before = int(time.time())
    with webhook(allow_private=True) as destination:
        [outcome] = destination.send_batch([message])
    assert outcome.status is SendStatus.SENT
    assert webhook_receiver.unverified == []
    [attempt] = webhook_receiver.deliveries
    assert attempt.webhook_id == "msg-00001"
    assert before <= attempt.timestamp <= int(time.time())
    assert attempt.payload == message.payload


def test_a_signature_with_another_secret_is_refused_by_the_receiver() -> None:
    other = WebhookReceiver("whsec_" + "QW5vdGhlclNlY3JldEZvclRoZVJlY2VpdmVy")
    other.http.start()
    try:
        with webhook(allow_private=True) as destination, pytest.raises(FatalRunError, match="401"):
            destination.send_batch([webhook_message(1, f"{other.url}/hooks")])
        assert len(other.unverified) == 1
        assert other.attempts == []
    finally:
        other.http.stop()


def test_a_retry_carries_the_same_webhook_id(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.script(Reply.json(503, {"error": "maintenance"}))
    message = webhook_message(1, f"{webhook_receiver.url}/hooks")
    with webhook(allow_private=True) as destination:
        [first] = destination.send_batch([message])
        [second] = destination.send_batch([message])  # the engine retries a retriable outcome
    assert first.error_class is ErrorClass.RETRIABLE
    assert second.status is SendStatus.SENT
    assert [a.webhook_id for a in webhook_receiver.attempts] == ["msg-00001", "msg-00001"]
    assert [a.status for a in webhook_receiver.attempts] == [503, 200]


def test_redirects_are_not_followed(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.script(Reply(302, headers={"Location": f"{webhook_receiver.url}/elsewhere"}))
    with webhook(allow_private=True) as destination:
        [outcome] = destination.send_batch([webhook_message(1, f"{webhook_receiver.url}/hooks")])
    assert outcome.error_class is ErrorClass.FATAL_MESSAGE
    assert outcome.error_code == "http_302"
    assert [a.path for a in webhook_receiver.attempts] == ["/hooks"]  # never /elsewhere


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",  # a name resolving to loopback
        "[::1]",
        "10.1.2.3",
        "192.168.1.10",
        "172.16.0.1",
        "169.254.169.254",  # cloud metadata
        "[fd00:ec2::254]",  # AWS metadata over IPv6
        "[::ffff:127.0.0.1]",  # IPv4-mapped loopback
        "100.64.0.1",  # shared address space (carrier NAT)
        "0.0.0.0",
        "224.0.0.1",
    ],
)
def test_private_and_special_addresses_are_refused(
    host: str, webhook_receiver: WebhookReceiver
) -> None:
    url = f"http://{host}:{webhook_receiver.http.port}/hooks"
    with webhook() as destination:
        [outcome] = destination.send_batch([webhook_message(1, url)])
    assert outcome.error_class is ErrorClass.FATAL_MESSAGE
    assert outcome.error_code == "ssrf_refused"
    assert webhook_receiver.attempts == []


def test_allow_private_lets_tests_reach_a_local_receiver(webhook_receiver: WebhookReceiver) -> None:
    url = f"http://localhost:{webhook_receiver.http.port}/hooks"
    with webhook(allow_private=True) as destination:
        [outcome] = destination.send_batch([webhook_message(1, url)])
    assert outcome.status is SendStatus.SENT


def test_a_name_with_any_private_address_is_refused() -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.0.0.8"]  # one public, one private record

    with webhook(resolver=resolver) as destination:
        [outcome] = destination.send_batch([webhook_message(1, "http://mixed.example.test/h")])
    assert outcome.error_code == "ssrf_refused"
    assert "10.0.0.8" in (outcome.error_message or "")


def test_the_resolved_address_is_pinned_for_the_request(webhook_receiver: WebhookReceiver) -> None:
    answers = iter(["127.0.0.1", "10.9.9.9"])  # a rebinding DNS: different on each lookup
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return [next(answers)]

    name = f"hooks.customer.test:{webhook_receiver.http.port}"
    with webhook(allow_private=True, resolver=resolver) as destination:
        [outcome] = destination.send_batch([webhook_message(1, f"http://{name}/hooks")])
    # One lookup, and the request went to that answer (the name does not resolve anywhere
    # else), carrying the name in its Host header.
    assert outcome.status is SendStatus.SENT
    assert lookups == ["hooks.customer.test"]
    [attempt] = webhook_receiver.deliveries
    assert attempt.host_header == name


def test_https_is_required_unless_configured_otherwise(webhook_receiver: WebhookReceiver) -> None:
    with webhook(require_https=True, allow_private=True) as destination:
        [outcome] = destination.send_batch([webhook_message(1, f"{webhook_receiver.url}/h")])
    assert outcome.error_code == "invalid_url"
    assert webhook_receiver.attempts == []


def test_urls_with_credentials_or_without_payload_are_refused() -> None:
    message = webhook_message(1, "https://user:pw@hooks.example.com/h")
    empty = replace(webhook_message(2, "https://hooks.example.com/h"), payload=None)
    with webhook() as destination:
        outcomes = destination.send_batch([message, empty])
    assert [o.error_class for o in outcomes] == [ErrorClass.FATAL_MESSAGE] * 2
    assert "user:pw" not in json.dumps([o.error_message for o in outcomes])


def test_a_malformed_secret_fails_the_check_without_showing_it() -> None:
    config = WebhookConfig(signing_secret=SecretStr("whsec_this is not base64 at all"))
    with (
        WebhookDestination(config) as destination,
        pytest.raises(DestinationConfigError, match="base64") as raised,
    ):
        destination.check()
    assert "this is not base64" not in str(raised.value)
    with WebhookDestination(config) as destination, pytest.raises(FatalRunError, match="base64"):
        destination.send_batch([webhook_message(1, "https://hooks.example.com/h")])


def test_public_addresses_are_allowed() -> None:
    for address in ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "8.8.8.8"):
        assert blocked_reason(ipaddress.ip_address(address)) is None
