"""Provider feedback in Tidemark's own words, and how it lands as `message_events` rows.

Every provider names things differently (SES "Permanent" bounces, SendGrid "spamreport"); the
parsers translate into `FeedbackEvent`s, and only this module knows the landing schema. Each
event has a deterministic `message_event_id`, so a webhook the provider delivers twice lands
twice but is counted once downstream (the dbt models deduplicate on that key).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import pyarrow as pa

from connectors.landing import LandingFile, LandingZone
from connectors.raw_schemas import MESSAGE_EVENTS


class FeedbackType(StrEnum):
    """What happened to a message, in the vocabulary of `raw.message_events.event_type`."""

    SENT = "sent"  # the provider accepted it for delivery
    DELIVERED = "delivered"
    DEFERRED = "deferred"  # delivery delayed; the provider keeps trying
    BOUNCE = "bounce"  # see `BounceType`
    COMPLAINT = "complaint"
    OPEN = "open"
    CLICK = "click"
    UNSUBSCRIBE = "unsubscribe"
    RESUBSCRIBE = "resubscribe"  # the recipient opted back in (SendGrid group_resubscribe)
    DROPPED = "dropped"  # the provider refused to attempt delivery (suppressed, rejected)
    FAILED = "failed"  # the provider could not build the message (template rendering)


class BounceType(StrEnum):
    HARD = "hard"  # permanent: the address must be suppressed
    SOFT = "soft"  # transient or undetermined: the address stays sendable


@dataclass(frozen=True)
class FeedbackEvent:
    """One thing that happened to one message for one recipient, as a provider reported it.

    `message_id` is Tidemark's own id when the provider carried it back (`is_matched`);
    otherwise it is `"<provider>:<provider message id>"`, so the event is still landed and can
    be matched later, never dropped. `occurred_at` is UTC without a zone, like every `*_at`.
    """

    provider: str
    event_type: FeedbackType
    occurred_at: datetime
    message_id: str
    is_matched: bool
    recipient: str | None = None
    provider_message_id: str | None = None
    provider_event_id: str | None = None  # the provider's id for this event, when it has one
    channel: str = "email"
    profile_id: str | None = None
    campaign_id: str | None = None
    bounce_type: BounceType | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is not None:
            raise ValueError("FeedbackEvent.occurred_at must be naive UTC")
        if not self.message_id:
            raise ValueError("FeedbackEvent.message_id must not be empty")
        if (self.bounce_type is None) != (self.event_type != FeedbackType.BOUNCE):
            raise ValueError("FeedbackEvent.bounce_type is set for bounces and only for bounces")

    @property
    def message_event_id(self) -> str:
        return message_event_id(self)


def message_event_id(event: FeedbackEvent) -> str:
    """A stable id for the event: the same notification parsed again gives the same id.

    With the provider's own event id, that id (plus the type and recipient, because some
    payloads reuse one id across event types) is the identity; without one, the event's
    content is: message, type, recipient, time to the microsecond and link.
    """
    parts: tuple[str, ...]
    if event.provider_event_id:
        parts = (
            event.provider,
            "event",
            event.provider_event_id,
            event.event_type,
            event.recipient or "",
        )
    else:
        parts = (
            event.provider,
            "content",
            event.provider_message_id or event.message_id,
            event.event_type,
            event.recipient or "",
            event.occurred_at.isoformat(timespec="microseconds"),
            event.url or "",
        )
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"{event.provider}_{digest[:32]}"


def to_arrow(events: Sequence[FeedbackEvent]) -> pa.Table:
    """The events as a table with exactly the `message_events` landing schema."""
    columns: dict[str, list[object]] = {
        "message_event_id": [e.message_event_id for e in events],
        "message_id": [e.message_id for e in events],
        "profile_id": [e.profile_id for e in events],
        "channel": [e.channel for e in events],
        "event_type": [str(e.event_type) for e in events],
        "occurred_at": [e.occurred_at for e in events],
        "provider": [e.provider for e in events],
        "recipient": [e.recipient for e in events],
        "campaign_id": [e.campaign_id for e in events],
        "bounce_type": [None if e.bounce_type is None else str(e.bounce_type) for e in events],
        "url": [e.url for e in events],
    }
    return pa.Table.from_pydict(columns, schema=MESSAGE_EVENTS.schema)


def land_feedback(landing: LandingZone, events: Sequence[FeedbackEvent]) -> LandingFile | None:
    """Write the events as one durable batch file; an empty list writes nothing (None)."""
    if not events:
        return None
    return landing.write_table(MESSAGE_EVENTS.name, to_arrow(events))
