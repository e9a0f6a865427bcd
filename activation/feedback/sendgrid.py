"""SendGrid Event Webhook: verify the ECDSA signature, read the batch into `FeedbackEvent`s.

SendGrid signs `timestamp + raw body` with ECDSA P-256 / SHA-256 and sends the base64 DER
signature and the timestamp in `X-Twilio-Email-Event-Webhook-Signature` / `-Timestamp`; the
account's verification key is a base64 DER public key. Verification must see the body bytes
exactly as received, before any JSON parsing.

A batch holds many events; one malformed or unknown event is reported with its index and
reason while the others are still returned, because SendGrid does not resend a batch we
accepted and refusing the whole batch would lose the good events with the bad one.
Our message id comes back in the `tidemark_message_id` custom argument, which SendGrid puts
at the top level of each event; without it the event keeps `"sendgrid:" + sg_message_id`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from activation.feedback.errors import FeedbackParseError, SignatureVerificationError
from activation.feedback.events import BounceType, FeedbackEvent, FeedbackType

PROVIDER = "sendgrid"
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
MESSAGE_ID_ARG = "tidemark_message_id"
PROFILE_ID_ARG = "tidemark_profile_id"
CAMPAIGN_ID_ARG = "tidemark_campaign_id"
DEFAULT_TOLERANCE = timedelta(minutes=5)

_EVENT_TYPES = {
    "processed": FeedbackType.SENT,
    "delivered": FeedbackType.DELIVERED,
    "deferred": FeedbackType.DEFERRED,
    "bounce": FeedbackType.BOUNCE,
    "dropped": FeedbackType.DROPPED,
    "open": FeedbackType.OPEN,
    "click": FeedbackType.CLICK,
    "spamreport": FeedbackType.COMPLAINT,
    "unsubscribe": FeedbackType.UNSUBSCRIBE,
    "group_unsubscribe": FeedbackType.UNSUBSCRIBE,
    "group_resubscribe": FeedbackType.RESUBSCRIBE,
}

# A bounce event's `type`: "bounce" is a permanent failure, "blocked" a temporary refusal.
_BOUNCE_TYPES = {"bounce": BounceType.HARD, "blocked": BounceType.SOFT}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def verify_sendgrid_signature(
    public_key_b64: str,
    payload: bytes,
    signature_b64: str,
    timestamp: str,
    *,
    now: datetime | None = None,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> None:
    """Raise `SignatureVerificationError` unless SendGrid signed `timestamp + payload`.

    With `now` (naive means UTC), the timestamp must also lie within `tolerance` of it, so a
    captured request cannot be replayed later; without `now` only the signature is checked.
    """
    if not timestamp or not timestamp.isdigit():
        raise SignatureVerificationError(f"{TIMESTAMP_HEADER} must be unix seconds")
    if now is not None:
        signed_at = datetime.fromtimestamp(int(timestamp), UTC)
        if abs(_aware(now) - signed_at) > tolerance:
            raise SignatureVerificationError(
                f"{TIMESTAMP_HEADER} {signed_at:%Y-%m-%dT%H:%M:%SZ} is more than "
                f"{tolerance} away from now; refusing a stale or replayed request"
            )
    try:
        key_der = base64.b64decode("".join(public_key_b64.split()), validate=True)
        key = load_der_public_key(key_der)
    except (binascii.Error, ValueError) as error:
        raise SignatureVerificationError(
            "the SendGrid verification key is not a base64 DER public key"
        ) from error
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise SignatureVerificationError("the SendGrid verification key is not ECDSA P-256")
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureVerificationError(f"{SIGNATURE_HEADER} is not base64") from None
    try:
        key.verify(signature, timestamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise SignatureVerificationError(
            "SendGrid signature does not match the payload (tampered, or another key)"
        ) from None


@dataclass(frozen=True)
class RejectedItem:
    """One event of a batch that could not be read; the rest of the batch was."""

    index: int
    reason: str
    item: object  # the event as received, for a dead-letter record


@dataclass(frozen=True)
class SendGridBatch:
    events: list[FeedbackEvent] = field(default_factory=list)
    rejected: list[RejectedItem] = field(default_factory=list)


def _optional_text(event: Mapping[str, Any], name: str) -> str | None:
    if event.get(name) is None:
        return None
    return _text(event, name)


def _text(event: Mapping[str, Any], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value.strip():
        raise FeedbackParseError(f"SendGrid event field {name!r} must be a non-empty string")
    return value.strip()


def _occurred_at(event: Mapping[str, Any]) -> datetime:
    value = event.get("timestamp")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FeedbackParseError("SendGrid event field 'timestamp' must be unix seconds")
    try:
        return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        raise FeedbackParseError(f"SendGrid event timestamp {value!r} is out of range") from None


def _bounce_type(event: Mapping[str, Any]) -> BounceType:
    """`type` says it; events without one (older payloads) are judged by the SMTP status."""
    kind = event.get("type")
    if kind is None:
        status = event.get("status")
        transient = isinstance(status, str) and status.startswith("4.")
        return BounceType.SOFT if transient else BounceType.HARD
    if kind not in _BOUNCE_TYPES:
        raise FeedbackParseError(f"SendGrid bounce type {kind!r} is not 'bounce' or 'blocked'")
    return _BOUNCE_TYPES[kind]


def parse_sendgrid_event(event: object) -> FeedbackEvent:
    """One event object of an Event Webhook batch."""
    if not isinstance(event, Mapping):
        raise FeedbackParseError("a SendGrid event must be a JSON object")
    name = _text(event, "event")
    if name not in _EVENT_TYPES:
        known = ", ".join(sorted(_EVENT_TYPES))
        raise FeedbackParseError(f"SendGrid event type {name!r} is not one of {known}")
    event_type = _EVENT_TYPES[name]
    ours = _optional_text(event, MESSAGE_ID_ARG)
    provider_message_id = _optional_text(event, "sg_message_id")
    if ours is None and provider_message_id is None:
        raise FeedbackParseError(
            f"SendGrid event has neither {MESSAGE_ID_ARG!r} nor 'sg_message_id'"
        )
    return FeedbackEvent(
        provider=PROVIDER,
        event_type=event_type,
        occurred_at=_occurred_at(event),
        message_id=ours or f"{PROVIDER}:{provider_message_id}",
        is_matched=ours is not None,
        recipient=_text(event, "email"),
        provider_message_id=provider_message_id,
        provider_event_id=_optional_text(event, "sg_event_id"),
        profile_id=_optional_text(event, PROFILE_ID_ARG),
        campaign_id=_optional_text(event, CAMPAIGN_ID_ARG),
        bounce_type=_bounce_type(event) if event_type == FeedbackType.BOUNCE else None,
        url=_optional_text(event, "url") if event_type == FeedbackType.CLICK else None,
    )


def parse_sendgrid_events(payload: bytes) -> SendGridBatch:
    """Every readable event of a webhook body, and every unreadable one with its reason.

    A body that is not a JSON array at all raises `FeedbackParseError`.
    """
    try:
        items = json.loads(payload)
    except UnicodeDecodeError:
        raise FeedbackParseError("SendGrid payload is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise FeedbackParseError(
            f"SendGrid payload is not valid JSON: {error.msg} at line {error.lineno} "
            f"column {error.colno}"
        ) from None
    if not isinstance(items, list):
        raise FeedbackParseError("SendGrid payload must be a JSON array of events")
    batch = SendGridBatch()
    for index, item in enumerate(items):
        try:
            batch.events.append(parse_sendgrid_event(item))
        except FeedbackParseError as error:
            batch.rejected.append(RejectedItem(index=index, reason=str(error), item=item))
    return batch
