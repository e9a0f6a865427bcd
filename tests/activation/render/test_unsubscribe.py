"""Unsubscribe tokens: they round-trip, and anything altered or foreign is rejected."""

import base64
import json

import pytest

from activation.render import (
    InvalidUnsubscribeTokenError,
    UnsubscribeClaim,
    make_unsubscribe_token,
    verify_unsubscribe_token,
)
from connectors.destinations.message import Channel

SECRET = b"k" * 32
OTHER_SECRET = b"z" * 32


def test_a_token_round_trips_to_its_claim():
    token = make_unsubscribe_token(SECRET, "msg-8f14e45f", "profile/42 é", Channel.SMS)
    assert verify_unsubscribe_token(SECRET, token) == UnsubscribeClaim(
        "msg-8f14e45f", "profile/42 é", Channel.SMS
    )


def test_a_token_is_url_safe_and_deterministic():
    token = make_unsubscribe_token(SECRET, "m1", "p1", "email")
    assert token == make_unsubscribe_token(SECRET, "m1", "p1", Channel.EMAIL)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def _reencode(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


def test_a_token_for_another_profile_cannot_be_forged():
    token = make_unsubscribe_token(SECRET, "m1", "p1", Channel.EMAIL)
    signature = token.split(".")[1]
    forged = f"{_reencode(['u1', 'm1', 'p2', 'email'])}.{signature}"
    with pytest.raises(InvalidUnsubscribeTokenError, match="signature does not match"):
        verify_unsubscribe_token(SECRET, forged)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: ("B" if t[0] != "B" else "C") + t[1:],  # payload changed
        lambda t: t[: len(t) // 2],  # truncated
        lambda t: t.replace(".", ""),  # no separator
        lambda t: t + ".extra",  # two separators
        lambda t: t.replace("_", "/").replace("-", "+") + "%",  # not URL-safe base64
        lambda t: "",
        lambda t: "a" * 5000,
    ],
)
def test_tampered_tokens_are_rejected(tamper):
    token = make_unsubscribe_token(SECRET, "m1", "p1", Channel.EMAIL)
    with pytest.raises(InvalidUnsubscribeTokenError):
        verify_unsubscribe_token(SECRET, tamper(token))


def test_a_token_signed_with_another_secret_is_rejected_and_rotation_accepts_both():
    old = make_unsubscribe_token(OTHER_SECRET, "m1", "p1", Channel.EMAIL)
    with pytest.raises(InvalidUnsubscribeTokenError):
        verify_unsubscribe_token(SECRET, old)
    assert verify_unsubscribe_token([SECRET, OTHER_SECRET], old).profile_id == "p1"


def test_secrets_must_be_long_enough_and_are_never_echoed():
    with pytest.raises(ValueError, match="at least 16 bytes") as raised:
        make_unsubscribe_token(b"short-secret", "m1", "p1", Channel.EMAIL)
    assert "short-secret" not in str(raised.value)
    with pytest.raises(ValueError, match="message id and a profile id"):
        make_unsubscribe_token(SECRET, "", "p1", Channel.EMAIL)
