"""Signed unsubscribe tokens: what the one-click link carries, and how the API checks it.

The link in `List-Unsubscribe` (RFC 8058) and in the body must work without a login, for
years, and must not let anyone unsubscribe someone else by editing the URL. So the token is
the message, profile and channel it was issued for, signed with HMAC-SHA256 under a server
secret: `<payload>.<signature>`, both URL-safe base64 without padding. Nothing in it is
secret (ids only); its integrity is what matters. Verification compares signatures in
constant time and accepts several secrets so a secret can be rotated without breaking the
links already in inboxes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from connectors.destinations.message import Channel

_VERSION = "u1"
_SIGNING_CONTEXT = b"tidemark-unsubscribe-v1:"  # keeps these MACs distinct from other uses
_MIN_SECRET_BYTES = 16
_MAX_TOKEN_CHARS = 2_048
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class InvalidUnsubscribeTokenError(ValueError):
    """The token was not issued by us (tampered, truncated or signed with another secret)."""


@dataclass(frozen=True)
class UnsubscribeClaim:
    """Who asked to unsubscribe, from which message, on which channel."""

    message_id: str
    profile_id: str
    channel: Channel


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes) or len(secret) < _MIN_SECRET_BYTES:
        raise ValueError(f"the unsubscribe secret must be at least {_MIN_SECRET_BYTES} bytes")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not _BASE64URL.fullmatch(text):
        raise InvalidUnsubscribeTokenError("the unsubscribe token is malformed")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidUnsubscribeTokenError("the unsubscribe token is malformed") from None


def _signature(secret: bytes, payload: str) -> bytes:
    return hmac.digest(secret, _SIGNING_CONTEXT + payload.encode("ascii"), hashlib.sha256)


def make_unsubscribe_token(
    secret: bytes, message_id: str, profile_id: str, channel: Channel | str
) -> str:
    """A URL-safe token naming this message, profile and channel, signed with `secret`."""
    _check_secret(secret)
    if not message_id or not profile_id:
        raise ValueError("an unsubscribe token needs a message id and a profile id")
    claim = [_VERSION, message_id, profile_id, Channel(channel).value]
    payload = _b64encode(json.dumps(claim, separators=(",", ":")).encode())
    return f"{payload}.{_b64encode(_signature(secret, payload))}"


def verify_unsubscribe_token(secret: bytes | Sequence[bytes], token: str) -> UnsubscribeClaim:
    """The claim in `token` if one of the secrets signed it; else InvalidUnsubscribeTokenError.

    `secret` may be a list (newest first) while a secret is being rotated.
    """
    secrets = [secret] if isinstance(secret, bytes) else list(secret)
    if not secrets:
        raise ValueError("at least one unsubscribe secret is needed")
    for candidate in secrets:
        _check_secret(candidate)
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS or token.count(".") != 1:
        raise InvalidUnsubscribeTokenError("the unsubscribe token is malformed")
    payload, signature_text = token.split(".")
    signature = _b64decode(signature_text)
    _b64decode(payload)
    if not any(hmac.compare_digest(_signature(s, payload), signature) for s in secrets):
        raise InvalidUnsubscribeTokenError(
            "the unsubscribe token's signature does not match: it was altered or not issued here"
        )
    return _claim(_b64decode(payload))


def _claim(payload: bytes) -> UnsubscribeClaim:
    try:
        version, message_id, profile_id, channel = json.loads(payload)
        if (
            version != _VERSION
            or not isinstance(message_id, str)
            or not isinstance(profile_id, str)
        ):
            raise ValueError(version)
        return UnsubscribeClaim(message_id, profile_id, Channel(channel))
    except (ValueError, TypeError):
        # Signed by us but not understood: a future version, or a bug; never a forgery.
        raise InvalidUnsubscribeTokenError("the unsubscribe token has an unknown format") from None
