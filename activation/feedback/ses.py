"""Amazon SES feedback: SNS-delivered notifications and events as `FeedbackEvent`s.

SES publishes two JSON shapes to SNS, both carried as a string in the SNS `Message`:
identity *notifications* (`notificationType`: Bounce, Complaint, Delivery) and
configuration-set *events* (`eventType`: Send, Delivery, DeliveryDelay, Bounce, Complaint,
Open, Click, Reject, Rendering Failure). Both share the `mail` object, which carries the
headers and tags our SES destination set: the `X-Tidemark-Message-Id` header or the
`tidemark_message_id` tag give our message id back. Without either (headers not included,
a message not sent by Tidemark) the event keeps `"ses:" + mail.messageId` and is still landed.

One event is produced per recipient the provider names (a bounce can name several). Opens and
clicks cannot say which of several recipients acted, so they name the recipient only when the
message had exactly one (Tidemark always sends one message per recipient).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from activation.feedback.errors import FeedbackParseError
from activation.feedback.events import BounceType, FeedbackEvent, FeedbackType

PROVIDER = "ses"
MESSAGE_ID_HEADER = "X-Tidemark-Message-Id"
PROFILE_ID_HEADER = "X-Tidemark-Profile-Id"
CAMPAIGN_ID_HEADER = "X-Tidemark-Campaign-Id"
MESSAGE_ID_TAG = "tidemark_message_id"
PROFILE_ID_TAG = "tidemark_profile_id"
CAMPAIGN_ID_TAG = "tidemark_campaign_id"

# SNS messages about the subscription itself, not about any mail: nothing to land.
_SETUP_MESSAGES = ("Successfully validated SNS topic for Amazon SES event publishing.",)
_SETUP_NOTIFICATION_TYPES = frozenset({"AmazonSnsSubscriptionSucceeded"})

_BOUNCE_TYPES = {
    "Permanent": BounceType.HARD,
    "Transient": BounceType.SOFT,
    "Undetermined": BounceType.SOFT,
}


def _address_in(item: Any, key: str | None) -> Any:
    if key is None:
        return item
    return item.get(key) if isinstance(item, Mapping) else None


class _Body:
    """Field access on the SES JSON that names the missing or malformed field in its error."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def object(self, *path: str) -> Mapping[str, Any]:
        value = self._get(path)
        if not isinstance(value, Mapping):
            raise FeedbackParseError(f"SES {'.'.join(path)} must be an object")
        return value

    def text(self, *path: str) -> str:
        value = self._get(path)
        if not isinstance(value, str) or not value.strip():
            raise FeedbackParseError(f"SES {'.'.join(path)} must be a non-empty string")
        return value.strip()

    def timestamp(self, *path: str) -> datetime:
        value = self.text(*path)
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise FeedbackParseError(
                f"SES {'.'.join(path)} is not an ISO 8601 timestamp: {value!r}"
            ) from None
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment

    def addresses(self, *path: str, key: str | None = None) -> list[str]:
        """A list of addresses, either plain strings or objects holding one under `key`."""
        value = self._get(path)
        name = ".".join(path)
        if not isinstance(value, list) or not value:
            raise FeedbackParseError(f"SES {name} must be a non-empty list")
        found = []
        for index, item in enumerate(value):
            address = _address_in(item, key)
            if not isinstance(address, str) or not address.strip():
                where = f"{name}[{index}]" + (f".{key}" if key else "")
                raise FeedbackParseError(f"SES {where} must be an email address")
            found.append(address.strip())
        return found

    def _get(self, path: tuple[str, ...]) -> Any:
        value: Any = self.data
        for depth, name in enumerate(path):
            if not isinstance(value, Mapping) or name not in value:
                raise FeedbackParseError(f"SES body has no {'.'.join(path[: depth + 1])}")
            value = value[name]
        return value


def _header(mail: Mapping[str, Any], name: str) -> str | None:
    headers = mail.get("headers")
    if not isinstance(headers, list):
        return None
    for header in headers:
        if (
            isinstance(header, Mapping)
            and str(header.get("name", "")).lower() == name.lower()
            and isinstance(header.get("value"), str)
            and header["value"].strip()
        ):
            return str(header["value"]).strip()
    return None


def _tag(mail: Mapping[str, Any], name: str) -> str | None:
    tags = mail.get("tags")
    if not isinstance(tags, Mapping):
        return None
    values = tags.get(name)
    if isinstance(values, list) and values and isinstance(values[0], str) and values[0].strip():
        return values[0].strip()
    return None


def _ours(mail: Mapping[str, Any], header: str, tag: str) -> str | None:
    return _header(mail, header) or _tag(mail, tag)


_Recipients = Callable[[_Body], list[str | None]]


def _destination(body: _Body) -> list[str | None]:
    return list(body.addresses("mail", "destination"))


def _single_destination(body: _Body) -> list[str | None]:
    destination = body.addresses("mail", "destination")
    return [destination[0] if len(destination) == 1 else None]


def _listed(detail: str, field: str, key: str | None = None) -> _Recipients:
    return lambda body: list(body.addresses(detail, field, key=key))


def _link(body: _Body) -> str | None:
    """The clicked link; a click without one is still a click."""
    link = body.object("click").get("link")
    return link.strip() if isinstance(link, str) and link.strip() else None


def _bounce_types(body: _Body) -> list[BounceType]:
    """Per bounced recipient: hard only for a Permanent bounce that failed for that recipient.

    SES gives one bounceType per notification, but each recipient carries its own RFC 3464
    action and status; a recipient merely "delayed" (status 4.x.x) in a Permanent bounce must
    not be suppressed for good.
    """
    raw_type = body.text("bounce", "bounceType")
    if raw_type not in _BOUNCE_TYPES:
        raise FeedbackParseError(
            f"SES bounce.bounceType {raw_type!r} is not Permanent, Transient or Undetermined"
        )
    types = []
    for recipient in body.data["bounce"]["bouncedRecipients"]:
        action = recipient.get("action")
        status = recipient.get("status")
        transient = (action is not None and action != "failed") or (
            isinstance(status, str) and status.startswith("4.")
        )
        types.append(BounceType.SOFT if transient else _BOUNCE_TYPES[raw_type])
    return types


@dataclass(frozen=True)
class _Kind:
    """How one SES type reads: our type, its detail object, its recipients, its time."""

    event_type: FeedbackType
    detail: str
    recipients: _Recipients
    detail_has_time: bool = True  # False: no timestamp of its own; the mail's send time stands


_KINDS: dict[str, _Kind] = {
    "Send": _Kind(FeedbackType.SENT, "send", _destination, detail_has_time=False),
    "Delivery": _Kind(FeedbackType.DELIVERED, "delivery", _listed("delivery", "recipients")),
    "DeliveryDelay": _Kind(
        FeedbackType.DEFERRED,
        "deliveryDelay",
        _listed("deliveryDelay", "delayedRecipients", "emailAddress"),
    ),
    "Bounce": _Kind(
        FeedbackType.BOUNCE, "bounce", _listed("bounce", "bouncedRecipients", "emailAddress")
    ),
    "Complaint": _Kind(
        FeedbackType.COMPLAINT,
        "complaint",
        _listed("complaint", "complainedRecipients", "emailAddress"),
    ),
    "Open": _Kind(FeedbackType.OPEN, "open", _single_destination),
    "Click": _Kind(FeedbackType.CLICK, "click", _single_destination),
    "Reject": _Kind(FeedbackType.DROPPED, "reject", _destination, detail_has_time=False),
    "Rendering Failure": _Kind(FeedbackType.FAILED, "failure", _destination, detail_has_time=False),
    "RenderingFailure": _Kind(FeedbackType.FAILED, "failure", _destination, detail_has_time=False),
}


def parse_ses_event(data: Mapping[str, Any]) -> list[FeedbackEvent]:
    """The events in one SES notification or event body (the JSON inside the SNS Message)."""
    if not isinstance(data, Mapping):
        raise FeedbackParseError("an SES body must be a JSON object")
    kind = data.get("eventType", data.get("notificationType"))
    if not isinstance(kind, str):
        raise FeedbackParseError("SES body has neither eventType nor notificationType")
    if kind in _SETUP_NOTIFICATION_TYPES:
        return []
    if kind == "Received":
        raise FeedbackParseError(
            "SES 'Received' is an inbound mail receipt, not feedback about a sent message; "
            "this topic should not be subscribed to the feedback endpoint"
        )
    if kind not in _KINDS:
        known = ", ".join(sorted(_KINDS))
        raise FeedbackParseError(f"SES event type {kind!r} is not one Tidemark reads ({known})")

    spec = _KINDS[kind]
    event_type = spec.event_type
    body = _Body(data)
    mail = body.object("mail")
    provider_message_id = body.text("mail", "messageId")
    occurred_at = body.timestamp(spec.detail if spec.detail_has_time else "mail", "timestamp")
    ours = _ours(mail, MESSAGE_ID_HEADER, MESSAGE_ID_TAG)
    recipients = spec.recipients(body)
    bounce_types: list[BounceType | None] = [None] * len(recipients)
    if event_type == FeedbackType.BOUNCE:
        bounce_types = list(_bounce_types(body))
    url = _link(body) if event_type == FeedbackType.CLICK else None

    return [
        FeedbackEvent(
            provider=PROVIDER,
            event_type=event_type,
            occurred_at=occurred_at,
            message_id=ours or f"{PROVIDER}:{provider_message_id}",
            is_matched=ours is not None,
            recipient=recipient,
            provider_message_id=provider_message_id,
            profile_id=_ours(mail, PROFILE_ID_HEADER, PROFILE_ID_TAG),
            campaign_id=_ours(mail, CAMPAIGN_ID_HEADER, CAMPAIGN_ID_TAG),
            bounce_type=bounce_type,
            url=url,
        )
        for recipient, bounce_type in zip(recipients, bounce_types, strict=True)
    ]


def parse_ses_sns_message(message: Mapping[str, Any]) -> list[FeedbackEvent]:
    """The events in an SNS Notification from SES; verify it with `verify_sns_message` first.

    SNS's messages about the topic itself ("Successfully validated SNS topic...") give no
    events. Any other SNS type (a SubscriptionConfirmation) is refused: it is not feedback.
    """
    if not isinstance(message, Mapping):
        raise FeedbackParseError("an SNS message must be a JSON object")
    if message.get("Type") != "Notification":
        raise FeedbackParseError(
            f"SNS message of Type {message.get('Type')!r} carries no SES feedback"
        )
    inner = message.get("Message")
    if not isinstance(inner, str):
        raise FeedbackParseError("SNS Message must be a string holding the SES JSON")
    if inner.strip() in _SETUP_MESSAGES:
        return []
    try:
        data = json.loads(inner)
    except json.JSONDecodeError as error:
        raise FeedbackParseError(f"SNS Message is not SES JSON: {error.msg}") from None
    return parse_ses_event(data)
