"""SES notifications and configuration-set events, from every SES fixture, as FeedbackEvents."""

import copy
import json
from datetime import datetime

import pytest

from activation.feedback import (
    BounceType,
    FeedbackParseError,
    FeedbackType,
    parse_ses_event,
    parse_ses_sns_message,
)

from .payloads import SES, lambda_sns, load_json

LOGGER = SES / "ses-events-logger"
BOUNCY = SES / "django-bouncy"
LOGGER_MESSAGE_ID = "00000137860315fd-34208509-5b74-41f3-95c5-41f3-41f3"

HARD, SOFT = BounceType.HARD, BounceType.SOFT
T = FeedbackType


def summary(events):
    return [(e.event_type, e.recipient, e.bounce_type, e.occurred_at) for e in events]


# (file, expected (event type, recipient, bounce type, occurred_at UTC) per event)
CONFIGSET_EVENTS = {
    "configset/send.json": [
        (T.SENT, "recipient@example.com", None, datetime(2016, 10, 14, 5, 2, 16, 645000))
    ],
    "configset/delivery.json": [
        (T.DELIVERED, "recipient@example.com", None, datetime(2016, 10, 19, 23, 21, 4, 133000))
    ],
    "configset/deliverydelay.json": [
        (T.DEFERRED, "recipient@example.com", None, datetime(2020, 6, 16, 0, 25, 40, 95000))
    ],
    "configset/bounce.json": [
        (T.BOUNCE, "recipient@example.com", HARD, datetime(2017, 8, 5, 0, 41, 2, 669000))
    ],
    "configset/complaint.json": [
        (T.COMPLAINT, "recipient@example.com", None, datetime(2017, 8, 5, 0, 41, 2, 669000))
    ],
    "configset/open.json": [
        (T.OPEN, "recipient@example.com", None, datetime(2017, 8, 9, 22, 0, 19, 652000))
    ],
    "configset/click.json": [
        (T.CLICK, "recipient@example.com", None, datetime(2017, 8, 9, 23, 51, 25, 570000))
    ],
    "configset/reject.json": [
        (T.DROPPED, "sender@example.com", None, datetime(2016, 10, 14, 17, 38, 15, 211000))
    ],
    "configset/rendering-failure.json": [
        (T.FAILED, "recipient@example.com", None, datetime(2018, 1, 22, 18, 43, 6, 197000))
    ],
    "withoutheaders/bounce-configset.json": [
        (T.BOUNCE, "recipient@example.com", HARD, datetime(2017, 8, 5, 0, 41, 2, 669000))
    ],
}

JAN_27 = datetime(2016, 1, 27, 14, 59, 38, 237000)
NOTIFICATIONS = {
    "notifications/bounce.json": [
        (T.BOUNCE, "jane@example.com", HARD, JAN_27),
        (T.BOUNCE, "richard@example.com", HARD, JAN_27),
    ],
    "notifications/complaint.json": [(T.COMPLAINT, "richard@example.com", None, JAN_27)],
    "notifications/delivery.json": [(T.DELIVERED, "jane@example.com", None, JAN_27)],
    "withoutheaders/bounce-notification.json": [
        (T.BOUNCE, "jane@example.com", HARD, JAN_27),
        (T.BOUNCE, "richard@example.com", HARD, JAN_27),
    ],
}


@pytest.mark.parametrize(("name", "expected"), CONFIGSET_EVENTS.items())
def test_configuration_set_events(name, expected):
    events = parse_ses_event(lambda_sns(LOGGER / name))
    assert summary(events) == expected
    for event in events:
        # None of these carry our id: they land under SES's id, flagged as unmatched.
        assert event.message_id == f"ses:{LOGGER_MESSAGE_ID}"
        assert not event.is_matched
        assert event.provider == "ses" and event.channel == "email"
        assert event.provider_message_id == LOGGER_MESSAGE_ID


@pytest.mark.parametrize(("name", "expected"), NOTIFICATIONS.items())
def test_notifications_inside_an_sns_envelope(name, expected):
    events = parse_ses_sns_message(lambda_sns(LOGGER / name))
    assert summary(events) == expected
    assert {e.message_id for e in events} == {f"ses:{LOGGER_MESSAGE_ID}"}


def test_a_click_keeps_its_link():
    (click,) = parse_ses_event(lambda_sns(LOGGER / "configset/click.json"))
    assert click.url == "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html"


def test_only_clicks_have_a_url():
    events = [parse_ses_event(lambda_sns(LOGGER / n))[0] for n in CONFIGSET_EVENTS]
    assert [e.event_type for e in events if e.url] == [T.CLICK]


# --- django-bouncy: bare bodies with zoned timestamps, and real signed envelopes -----------


def test_a_permanent_bounce_is_hard_only_for_recipients_that_failed():
    events = parse_ses_event(load_json(BOUNCY / "example_bounce.json"))
    # recipient2's action is "delayed" (4.0.0): suppressing it for good would be wrong.
    at = datetime(2012, 5, 25, 21, 59, 38, 605000)  # 14:59:38.605-07:00 in UTC
    assert summary(events) == [
        (T.BOUNCE, "recipient1@example.com", HARD, at),
        (T.BOUNCE, "recipient2@example.com", SOFT, at),
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "example_bounce_nocode.json",
            [
                (
                    T.BOUNCE,
                    "recipient1@example.com",
                    HARD,
                    datetime(2012, 5, 25, 21, 59, 38, 237000),
                ),
                (
                    T.BOUNCE,
                    "recipient2@example.com",
                    HARD,
                    datetime(2012, 5, 25, 21, 59, 38, 237000),
                ),
            ],
        ),
        (
            "example_complaint.json",
            [
                (
                    T.COMPLAINT,
                    "recipient1@example.com",
                    None,
                    datetime(2012, 5, 25, 21, 59, 38, 623000),
                )
            ],
        ),
        (
            "example_complaint_nofeedback.json",
            [
                (
                    T.COMPLAINT,
                    "recipient1@example.com",
                    None,
                    datetime(2012, 5, 25, 21, 59, 38, 613000),
                )
            ],
        ),
        (
            "example_delivery.json",
            [
                (
                    T.DELIVERED,
                    "success@simulator.amazonses.com",
                    None,
                    datetime(2014, 5, 28, 22, 41, 1, 184000),
                )
            ],
        ),
    ],
)
def test_bare_notification_bodies(name, expected):
    assert summary(parse_ses_event(load_json(BOUNCY / name))) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "example_bounce_notification.json",
            [(T.BOUNCE, "username@example.com", HARD, datetime(2012, 6, 19, 1, 7, 52))],
        ),
        (
            "example_complaint_notification.json",
            [
                (
                    T.COMPLAINT,
                    "recipient1@example.com",
                    None,
                    datetime(2012, 5, 25, 21, 59, 38, 623000),
                )
            ],
        ),
        (
            "example_delivery_notification.json",
            [
                (
                    T.DELIVERED,
                    "success@simulator.amazonses.com",
                    None,
                    datetime(2014, 5, 28, 22, 41, 1, 184000),
                )
            ],
        ),
    ],
)
def test_signed_envelopes_parse(name, expected):
    assert summary(parse_ses_sns_message(load_json(BOUNCY / name))) == expected


def test_a_subscription_confirmation_is_not_feedback():
    with pytest.raises(FeedbackParseError, match="SubscriptionConfirmation' carries no SES"):
        parse_ses_sns_message(load_json(BOUNCY / "example_subscriptionconfirmation.json"))


def test_inbound_mail_receipts_are_refused_with_a_reason():
    message = load_json(SES / "action_mailbox_amazon_ingress/inbound_email.json")
    with pytest.raises(FeedbackParseError, match="'Received' is an inbound mail receipt"):
        parse_ses_sns_message(message)


# --- localstack: SNS notifications recorded from real AWS, values replaced by placeholders ---


def localstack_messages():
    snapshot = load_json(SES / "localstack/test_ses.snapshot.json")
    test = snapshot[
        "tests/aws/services/ses/test_ses.py::TestSES::test_ses_sns_topic_integration_send_email"
    ]
    return test["recorded-content"]["messages"]


def on_the_wire(message, **timestamps):
    """The recorded message as SNS sends it: `Message` a JSON string, placeholders filled."""
    inner = copy.deepcopy(message["Message"])
    for path, value in timestamps.items():
        detail, field = path.split("__")
        inner[detail][field] = value
    return {**message, "Message": json.dumps(inner)}


def test_the_topic_validation_message_gives_no_events():
    validation = localstack_messages()[0]
    assert validation["Message"].startswith("Successfully validated SNS topic")
    assert parse_ses_sns_message(validation) == []


def test_placeholder_timestamps_are_refused_naming_the_field():
    send = localstack_messages()[1]
    with pytest.raises(FeedbackParseError, match=r"mail\.timestamp is not an ISO 8601 timestamp"):
        parse_ses_sns_message(on_the_wire(send))


def test_recorded_send_and_delivery_events():
    _, send, delivery = localstack_messages()
    sent = parse_ses_sns_message(on_the_wire(send, mail__timestamp="2023-08-25T21:53:35.859Z"))
    delivered = parse_ses_sns_message(
        on_the_wire(
            delivery,
            mail__timestamp="2023-08-25T21:53:35.859Z",
            delivery__timestamp="2023-08-25T21:53:36.912Z",
        )
    )
    assert summary(sent + delivered) == [
        (T.SENT, "<recipient-email-address>", None, datetime(2023, 8, 25, 21, 53, 35, 859000)),
        (T.DELIVERED, "<recipient-email-address>", None, datetime(2023, 8, 25, 21, 53, 36, 912000)),
    ]
    assert sent[0].message_id == delivered[0].message_id == "ses:<message-id:1>"


def test_an_sns_message_must_carry_ses_json_as_a_string():
    with pytest.raises(FeedbackParseError, match="Message must be a string"):
        parse_ses_sns_message(localstack_messages()[1])  # recorded with Message as an object
    bad = {**localstack_messages()[0], "Message": "{not json"}
    with pytest.raises(FeedbackParseError, match="not SES JSON"):
        parse_ses_sns_message(bad)


# --- our own ids: header or tag --------------------------------------------------------------


def with_mail(name, **changes):
    body = copy.deepcopy(lambda_sns(LOGGER / name))
    body["mail"].update(changes)
    return body


def test_our_message_id_from_the_header_matches_the_event():
    body = with_mail("configset/delivery.json")
    body["mail"]["headers"] += [
        {"name": "x-tidemark-message-id", "value": "msg_42_0001234"},  # any case
        {"name": "X-Tidemark-Profile-Id", "value": "p_0001234"},
        {"name": "X-Tidemark-Campaign-Id", "value": "welcome"},
    ]
    (event,) = parse_ses_event(body)
    assert event.message_id == "msg_42_0001234" and event.is_matched
    assert event.profile_id == "p_0001234" and event.campaign_id == "welcome"
    assert event.provider_message_id == LOGGER_MESSAGE_ID


def test_our_message_id_from_a_tag_when_headers_are_not_included():
    body = lambda_sns(LOGGER / "withoutheaders/bounce-configset.json")
    body["mail"]["tags"]["tidemark_message_id"] = ["msg_42_0001234"]
    (event,) = parse_ses_event(body)
    assert event.message_id == "msg_42_0001234" and event.is_matched
    assert event.profile_id is None


def test_opens_with_several_recipients_name_none_of_them():
    body = with_mail("configset/open.json", destination=["a@example.com", "b@example.com"])
    (event,) = parse_ses_event(body)
    assert event.event_type == T.OPEN and event.recipient is None


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda b: b.pop("eventType"), "neither eventType nor notificationType"),
        (lambda b: b.update(eventType="Teleport"), "'Teleport' is not one Tidemark reads"),
        (lambda b: b.pop("mail"), "no mail"),
        (lambda b: b["mail"].pop("messageId"), "has no mail.messageId"),
        (lambda b: b["bounce"].update(bounceType="Maybe"), "'Maybe' is not Permanent"),
        (
            lambda b: b["bounce"].update(bouncedRecipients=[]),
            "bouncedRecipients must be a non-empty",
        ),
        (lambda b: b["bounce"].update(bouncedRecipients=["x@example.com"]), r"\[0\].emailAddress"),
        (lambda b: b["bounce"].update(timestamp="yesterday"), "bounce.timestamp is not an ISO"),
    ],
)
def test_malformed_bodies_name_the_problem(mutate, reason):
    body = lambda_sns(LOGGER / "configset/bounce.json")
    mutate(body)
    with pytest.raises(FeedbackParseError, match=reason):
        parse_ses_event(body)
