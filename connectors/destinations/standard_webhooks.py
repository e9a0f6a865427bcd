"""Signing per the Standard Webhooks specification (standardwebhooks.com).

Three headers: `webhook-id` (the message id: the same on every retry, so receivers can
deduplicate), `webhook-timestamp` (integer seconds of this attempt, so receivers can refuse
replays) and `webhook-signature`: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
keyed with the base64 secret after its `whsec_` prefix.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
_MIN_KEY_BYTES = 16


def decode_secret(secret: str) -> bytes:
    """The HMAC key inside a `whsec_<base64>` secret; ValueError (secret-free) if malformed."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a signing secret must start with {SECRET_PREFIX!r}")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"a signing secret must be {SECRET_PREFIX} followed by base64") from None
    if len(key) < _MIN_KEY_BYTES:
        raise ValueError(f"a signing secret must hold at least {_MIN_KEY_BYTES} bytes")
    return key


def signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return f"v1,{base64.b64encode(digest).decode()}"


def signed_headers(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(key, webhook_id, timestamp, body),
    }
