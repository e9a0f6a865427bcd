"""What the engine hands a destination, and what a destination answers for each message.

The engine renders messages before they reach a destination, so a destination only moves
bytes to its provider and classifies what came back. `message_id` is Tidemark's own,
deterministic id: destinations put it where provider feedback will carry it back (an email
header, a custom argument, a webhook id), so events can be matched to the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


class ErrorClass(StrEnum):
    """How a failure is handled; decided once, in the destination's error table."""

    RETRIABLE = "retriable"  # try again later (429, 5xx, throttling); honour retry_after_s
    FATAL_MESSAGE = "fatal_message"  # this message can never be sent (invalid address)
    FATAL_RUN = "fatal_run"  # nothing can be sent (bad credentials): stop the run
    IN_DOUBT = "in_doubt"  # the provider may have accepted it: never re-send automatically


class SendStatus(StrEnum):
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class OutboundMessage:
    """One rendered message for one recipient."""

    message_id: str
    channel: Channel
    to: str  # email address, E.164 phone number or webhook URL
    profile_id: str
    subject: str | None = None
    html: str | None = None
    text: str | None = None
    from_address: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    payload: dict[str, Any] | None = None  # webhooks: the JSON body
    metadata: dict[str, str] = field(default_factory=dict)  # provider custom args / tags


@dataclass(frozen=True)
class SendOutcome:
    """What happened to one message in a send: sent (with the provider's id) or not, and why."""

    message_id: str
    status: SendStatus
    provider_message_id: str | None = None
    error_class: ErrorClass | None = None
    error_code: str | None = None
    error_message: str | None = None  # already passed through the secret filter
    retry_after_s: float | None = None

    @classmethod
    def sent(cls, message_id: str, provider_message_id: str | None = None) -> SendOutcome:
        return cls(message_id, SendStatus.SENT, provider_message_id=provider_message_id)

    @classmethod
    def failed(
        cls,
        message_id: str,
        error_class: ErrorClass,
        *,
        code: str | None = None,
        message: str | None = None,
        retry_after_s: float | None = None,
    ) -> SendOutcome:
        return cls(
            message_id,
            SendStatus.FAILED,
            error_class=error_class,
            error_code=code,
            error_message=message,
            retry_after_s=retry_after_s,
        )
