"""Building destinations from (kind, config, secrets), and the errors a user sees."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.destinations import Channel, DestinationConfigError, TokenBucket
from connectors.destinations.registry import build_destination, known_kinds, secret_fields
from connectors.destinations.sendgrid import SendGridDestination

MINIMAL: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "smtp": ({"host": "smtp.example.com"}, {"password": "smtp-secret-value"}),
    "ses": ({"region": "eu-west-1"}, {}),
    "sendgrid": ({}, {"api_key": "SG.registryTestKey.abcdefghijklmnop"}),
    "webhook": ({}, {"signing_secret": "whsec_dGlkZW1hcmstd2ViaG9vay10ZXN0LWtleS0zMmJ5dGU="}),
    "sms": (
        {"account_sid": "AC" + "1" * 32, "from_number": "+15005550006"},
        {"auth_token": "sms-secret-value"},
    ),
}


def test_every_kind_builds_with_its_declared_shape() -> None:
    assert known_kinds() == sorted(MINIMAL)
    channels = {}
    for kind, (config, secrets) in MINIMAL.items():
        with build_destination(kind, config, secrets) as destination:
            assert destination.kind == kind
            assert destination.batch_size >= 1
            assert destination.rate_limit_per_s > 0
            channels[kind] = destination.channel
    assert channels == {
        "smtp": Channel.EMAIL,
        "ses": Channel.EMAIL,
        "sendgrid": Channel.EMAIL,
        "webhook": Channel.WEBHOOK,
        "sms": Channel.SMS,
    }


def test_secret_fields_are_declared_per_kind() -> None:
    assert secret_fields("smtp") == ["password"]
    assert secret_fields("ses") == ["secret_access_key", "session_token"]
    assert secret_fields("sendgrid") == ["api_key"]
    assert secret_fields("webhook") == ["signing_secret"]
    assert secret_fields("sms") == ["auth_token"]


def test_batch_size_and_rate_are_configurable_and_a_bucket_can_be_shared() -> None:
    shared = TokenBucket(30, burst=3)
    config, secrets = MINIMAL["sendgrid"]
    first = build_destination(
        "sendgrid", {**config, "batch_size": 10}, secrets, rate_limiter=shared
    )
    second = build_destination("sendgrid", config, secrets, rate_limiter=shared)
    assert first.batch_size == 10
    assert first.rate_limiter is second.rate_limiter is shared
    assert first.rate_limit_per_s == 30
    smtp_config, smtp_secrets = MINIMAL["smtp"]
    smtp = build_destination("smtp", {**smtp_config, "rate_limit_per_s": 2.5}, smtp_secrets)
    assert smtp.rate_limit_per_s == 2.5


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(DestinationConfigError) as raised:
        build_destination("fax", {}, {})
    assert str(raised.value) == (
        "unknown destination kind 'fax'; known kinds: sendgrid, ses, sms, smtp, webhook"
    )


def test_a_missing_key_is_named() -> None:
    with pytest.raises(DestinationConfigError, match="missing required key 'host'"):
        build_destination("smtp", {}, {})
    with pytest.raises(DestinationConfigError, match="missing required key 'api_key'"):
        build_destination("sendgrid", {}, {})


def test_unknown_keys_and_bad_values_are_named_without_their_values() -> None:
    with pytest.raises(DestinationConfigError) as raised:
        build_destination(
            "smtp",
            {"host": "smtp.example.com", "prot": 25, "port": "not-a-port-9f8e7d"},
            {"password": "smtp-secret-value"},
        )
    text = str(raised.value)
    assert "unknown key 'prot'" in text
    assert "port:" in text
    assert "not-a-port-9f8e7d" not in text
    assert "smtp-secret-value" not in text


def test_secrets_belong_in_secrets_not_in_the_config() -> None:
    with pytest.raises(
        DestinationConfigError, match="'api_key' must be given as secrets"
    ) as raised:
        build_destination("sendgrid", {"api_key": "SG.leakedIntoConfig.abcdefghijk"}, {})
    assert "leakedIntoConfig" not in str(raised.value)
    with pytest.raises(DestinationConfigError, match="no secret named 'host'"):
        build_destination("smtp", {}, {"host": "smtp.example.com"})


def test_ses_keys_come_in_pairs() -> None:
    with pytest.raises(DestinationConfigError, match="must be given together"):
        build_destination("ses", {"access_key_id": "AKIAEXAMPLE"}, {})


def test_base_urls_must_be_http() -> None:
    config, secrets = MINIMAL["sendgrid"]
    with pytest.raises(DestinationConfigError, match=r"base_url: .*http:// or https://"):
        build_destination("sendgrid", {**config, "base_url": "api.sendgrid.com"}, secrets)
    destination = build_destination(
        "sendgrid", {**config, "base_url": "https://api.eu.sendgrid.com/"}, secrets
    )
    assert isinstance(destination, SendGridDestination)
    assert destination.config.base_url == "https://api.eu.sendgrid.com"
