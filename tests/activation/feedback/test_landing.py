"""Feedback lands as `message_events` batches the loader accepts, with stable dedupe keys."""

import json
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest

from activation.feedback import (
    BounceType,
    FeedbackEvent,
    FeedbackType,
    land_feedback,
    parse_sendgrid_events,
    parse_ses_event,
    parse_ses_sns_message,
    to_arrow,
)
from connectors.landing import LocalLandingZone
from connectors.loader import load_landing_files
from connectors.loader.conform import conform_batch, read_parquet
from connectors.raw_schemas import DATASETS
from connectors.warehouse.duckdb import DuckDBWarehouse

from .payloads import SENDGRID, SES, lambda_sns, load_json

MESSAGE_EVENTS = DATASETS["message_events"]
COLUMNS = [f.name for f in MESSAGE_EVENTS.schema]


def every_fixture_event():
    """Events from SES (notifications, configuration-set events) and SendGrid batches."""
    logger = SES / "ses-events-logger"
    events = []
    for path in sorted((logger / "configset").glob("*.json")):
        events += parse_ses_event(lambda_sns(path))
    for path in sorted((logger / "notifications").glob("*.json")):
        events += parse_ses_sns_message(lambda_sns(path))
    events += parse_ses_event(load_json(SES / "django-bouncy/example_bounce.json"))
    for path in sorted((SENDGRID / "symfony_pr51305").glob("*.json")):
        events += parse_sendgrid_events(path.read_bytes()).events
    events += parse_sendgrid_events((SENDGRID / "symfony/batch.json").read_bytes()).events
    return events


def as_row(event):
    return {
        "message_event_id": event.message_event_id,
        "message_id": event.message_id,
        "profile_id": event.profile_id,
        "channel": event.channel,
        "event_type": str(event.event_type),
        "occurred_at": event.occurred_at,
        "provider": event.provider,
        "recipient": event.recipient,
        "campaign_id": event.campaign_id,
        "bounce_type": None if event.bounce_type is None else str(event.bounce_type),
        "url": event.url,
    }


@pytest.fixture
def landing(tmp_path):
    return LocalLandingZone(tmp_path / "landing")


def test_landed_file_is_accepted_by_the_loader_and_holds_the_events(landing):
    events = every_fixture_event()
    assert len(events) == 27

    landed = land_feedback(landing, events)

    assert landed is not None and landed.dataset == "message_events"
    assert [f.key for f in landing.list("message_events")] == [landed.key]
    table = conform_batch(MESSAGE_EVENTS, read_parquet(landing.read(landed.key)))
    assert table.schema.equals(MESSAGE_EVENTS.schema)
    assert table.to_pylist() == [as_row(e) for e in events]


def test_landed_events_load_into_raw_message_events(landing, tmp_path):
    events = every_fixture_event()
    land_feedback(landing, events)
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb", lock_timeout_s=30)

    report = load_landing_files(landing, warehouse)

    assert report.rows_by_dataset() == {"message_events": len(events)}
    loaded = warehouse.query_arrow(
        f"select {', '.join(COLUMNS)} from raw.message_events order by message_event_id"
    )
    expected = sorted((as_row(e) for e in events), key=lambda r: r["message_event_id"])
    assert loaded.to_pylist() == expected
    hard_bounces = warehouse.scalar(
        "select count(*) from raw.message_events where event_type = 'bounce' "
        "and bounce_type = 'hard'"
    )
    assert hard_bounces == 5  # SES 4 (a merely delayed recipient is soft) + SendGrid 1


def test_nothing_is_written_for_no_events(landing):
    assert land_feedback(landing, []) is None
    assert landing.list() == []


def test_each_call_writes_one_new_file(landing):
    events = every_fixture_event()
    first = land_feedback(landing, events[:3])
    second = land_feedback(landing, events[3:])
    assert first is not None and second is not None and first.key != second.key
    rows = sum(pq.read_metadata(landing.root / f.key).num_rows for f in landing.list())
    assert rows == len(events)


def test_to_arrow_has_exactly_the_landing_schema_even_when_empty():
    assert to_arrow([]).schema.equals(MESSAGE_EVENTS.schema)
    assert to_arrow(every_fixture_event()).column_names == COLUMNS


def test_dedupe_keys_are_stable_across_re_parses_and_distinct_between_events():
    events = every_fixture_event()
    first = [e.message_event_id for e in events]
    again = [e.message_event_id for e in every_fixture_event()]
    assert first == again
    # Symfony's per-event fixtures all use the placeholder sg_event_id "sg_event_id"; two of
    # them (unsubscribe, group_unsubscribe) then claim to be the same unsubscribe of the same
    # recipient, and count once. Every other event has a key of its own.
    by_key = {}
    for event in events:
        by_key.setdefault(event.message_event_id, []).append(event)
    shared = [group for group in by_key.values() if len(group) > 1]
    assert [[(e.provider_event_id, e.event_type) for e in g] for g in shared] == [
        [("sg_event_id", FeedbackType.UNSUBSCRIBE)] * 2
    ]
    assert all(k.startswith(("ses_", "sendgrid_")) for k in first)


def test_a_redelivered_sendgrid_event_keeps_its_key_whatever_else_changed():
    event = json.loads((SENDGRID / "symfony/webhook.json").read_text())[0]
    redelivered = {**event, "timestamp": event["timestamp"] + 60, "attempt": "2"}
    (a,) = parse_sendgrid_events(json.dumps([event]).encode()).events
    (b,) = parse_sendgrid_events(json.dumps([redelivered]).encode()).events
    assert a.message_event_id == b.message_event_id


def test_an_ses_notification_received_twice_keeps_its_key():
    # SNS retries re-post the same message; subscribing twice yields another envelope
    # around the same SES event. Either way the content decides the key.
    message = lambda_sns(SES / "ses-events-logger/notifications/bounce.json")
    other_envelope = {
        **message,
        "MessageId": "another-delivery",
        "Timestamp": "2014-08-23T00:00:00Z",
    }
    first = [e.message_event_id for e in parse_ses_sns_message(message)]
    assert first == [e.message_event_id for e in parse_ses_sns_message(other_envelope)]


def test_events_without_a_provider_event_id_differ_by_content():
    base = {
        "provider": "ses",
        "event_type": FeedbackType.CLICK,
        "occurred_at": datetime(2026, 11, 27, 10, 0),
        "message_id": "msg_1",
        "is_matched": True,
        "recipient": "a@example.com",
    }
    click = FeedbackEvent(**base, url="https://example.com/a")
    other_link = FeedbackEvent(**base, url="https://example.com/b")
    later = FeedbackEvent(
        **{**base, "occurred_at": datetime(2026, 11, 27, 10, 0, 1)}, url=click.url
    )
    assert len({click.message_event_id, other_link.message_event_id, later.message_event_id}) == 3


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"occurred_at": datetime(2026, 11, 27, tzinfo=UTC)}, "naive UTC"),
        ({"message_id": ""}, "message_id must not be empty"),
        ({"bounce_type": BounceType.HARD}, "bounce_type is set for bounces and only"),
        ({"event_type": FeedbackType.BOUNCE}, "bounce_type is set for bounces and only"),
    ],
)
def test_feedback_events_refuse_inconsistent_values(changes, reason):
    values = {
        "provider": "sendgrid",
        "event_type": FeedbackType.OPEN,
        "occurred_at": datetime(2026, 11, 27),
        "message_id": "msg_1",
        "is_matched": True,
    }
    with pytest.raises(ValueError, match=reason):
        FeedbackEvent(**{**values, **changes})
