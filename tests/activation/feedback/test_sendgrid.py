"""SendGrid: SendGrid's own ECDSA test vectors, and every Event Webhook fixture parsed."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from activation.feedback import (
    BounceType,
    FeedbackParseError,
    FeedbackType,
    SignatureVerificationError,
    parse_sendgrid_events,
    verify_sendgrid_signature,
)

from .payloads import SENDGRID, load_json

SIGNED = load_json(SENDGRID / "signed_event_examples.json")
SIGNATURE = SIGNED["header_names"]["signature"]
TIMESTAMP = SIGNED["header_names"]["timestamp"]
T = FeedbackType


def signed_case(name):
    case = SIGNED[name]
    headers = case["headers"]
    return case["public_key"], case["payload"].encode(), headers[SIGNATURE], headers[TIMESTAMP]


# --- signatures -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["single", "multiple"])
def test_sendgrid_test_vectors_verify(name):
    key, payload, signature, timestamp = signed_case(name)
    assert SIGNED[name]["expected_valid"]
    verify_sendgrid_signature(key, payload, signature, timestamp)
    signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    verify_sendgrid_signature(
        key, payload, signature, timestamp, now=signed_at + timedelta(seconds=30)
    )


@pytest.mark.parametrize("name", ["single", "multiple"])
@pytest.mark.parametrize("position", [0, 40, -3])
def test_one_changed_byte_of_the_payload_fails(name, position):
    key, payload, signature, timestamp = signed_case(name)
    tampered = bytearray(payload)
    tampered[position] ^= 0x01
    with pytest.raises(SignatureVerificationError, match="does not match the payload"):
        verify_sendgrid_signature(key, bytes(tampered), signature, timestamp)


def test_the_payload_must_be_the_exact_bytes_received():
    # symfony's webhook.json is the signed payload with LF instead of CRLF: same JSON, other bytes.
    key, _, signature, timestamp = signed_case("single")
    same_json = (SENDGRID / "symfony/webhook.json").read_bytes()
    with pytest.raises(SignatureVerificationError, match="does not match"):
        verify_sendgrid_signature(key, same_json, signature, timestamp)
    verify_sendgrid_signature(key, same_json.replace(b"\n", b"\r\n"), signature, timestamp)


def test_a_changed_timestamp_fails():
    key, payload, signature, timestamp = signed_case("single")
    with pytest.raises(SignatureVerificationError, match="does not match"):
        verify_sendgrid_signature(key, payload, signature, str(int(timestamp) + 1))


def test_sendgrids_negative_vectors_fail():
    key, payload, signature, timestamp = signed_case("single")
    negative = SIGNED["single"]["negative_cases"]
    with pytest.raises(SignatureVerificationError, match="does not match"):
        verify_sendgrid_signature(negative["wrong_public_key"], payload, signature, timestamp)
    with pytest.raises(SignatureVerificationError, match="does not match"):
        verify_sendgrid_signature(key, payload, negative["wrong_signature"], timestamp)


def test_one_changed_byte_of_the_signature_fails():
    key, payload, signature, timestamp = signed_case("multiple")
    raw = bytearray(base64.b64decode(signature))
    raw[-1] ^= 0x01
    with pytest.raises(SignatureVerificationError, match="does not match"):
        verify_sendgrid_signature(key, payload, base64.b64encode(bytes(raw)).decode(), timestamp)


def test_a_stale_or_future_timestamp_is_refused_when_now_is_given():
    key, payload, signature, timestamp = signed_case("single")
    signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    for now in (signed_at + timedelta(hours=1), signed_at - timedelta(minutes=6)):
        with pytest.raises(SignatureVerificationError, match="stale or replayed"):
            verify_sendgrid_signature(key, payload, signature, timestamp, now=now)
    verify_sendgrid_signature(
        key,
        payload,
        signature,
        timestamp,
        now=signed_at + timedelta(hours=1),
        tolerance=timedelta(hours=2),
    )


@pytest.mark.parametrize(
    ("key", "signature", "timestamp", "reason"),
    [
        ("not base64!", None, None, "not a base64 DER public key"),
        (base64.b64encode(b"junk").decode(), None, None, "not a base64 DER public key"),
        (None, "%%%", None, "is not base64"),
        (None, None, "", "must be unix seconds"),
        (None, None, "2020-09-14", "must be unix seconds"),
    ],
)
def test_malformed_inputs_are_refused_clearly(key, signature, timestamp, reason):
    good_key, payload, good_signature, good_timestamp = signed_case("single")
    with pytest.raises(SignatureVerificationError, match=reason):
        verify_sendgrid_signature(
            key or good_key,
            payload,
            signature or good_signature,
            good_timestamp if timestamp is None else timestamp,
        )


def test_an_rsa_key_is_not_a_sendgrid_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    der = rsa_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _, payload, signature, timestamp = signed_case("single")
    with pytest.raises(SignatureVerificationError, match="not ECDSA P-256"):
        verify_sendgrid_signature(base64.b64encode(der).decode(), payload, signature, timestamp)


# --- parsing --------------------------------------------------------------------------------

DEC_15 = datetime(2017, 12, 15, 0, 59, 29)
PR51305 = {
    "processed.json": (T.SENT, None, None),
    "delivered.json": (T.DELIVERED, None, None),
    "deferred.json": (T.DEFERRED, None, None),
    "bounce.json": (T.BOUNCE, BounceType.HARD, None),  # no `type`; status 5.0.0
    "dropped.json": (T.DROPPED, None, None),
    "open.json": (T.OPEN, None, None),
    "click.json": (T.CLICK, None, "http://www.sendgrid.com/"),
    "spamreport.json": (T.COMPLAINT, None, None),
    "unsubscribe.json": (T.UNSUBSCRIBE, None, None),
    "group_unsubscribe.json": (T.UNSUBSCRIBE, None, None),
}


@pytest.mark.parametrize(("name", "expected"), PR51305.items())
def test_each_event_type(name, expected):
    batch = parse_sendgrid_events((SENDGRID / "symfony_pr51305" / name).read_bytes())
    assert batch.rejected == []
    (event,) = batch.events
    assert (event.event_type, event.bounce_type, event.url) == expected
    assert event.recipient == "example@test.com"
    assert event.occurred_at == DEC_15
    assert event.provider == "sendgrid" and event.channel == "email"
    assert event.message_id == "sendgrid:sg_message_id" and not event.is_matched
    assert event.provider_event_id == "sg_event_id"


SEP_14 = datetime(2020, 9, 14, 19, 41, 32)
SYMFONY_MESSAGE_ID = (
    "sendgrid:LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0"
)


def test_symfony_single_event_webhook():
    batch = parse_sendgrid_events((SENDGRID / "symfony/webhook.json").read_bytes())
    assert [(e.event_type, e.recipient, e.occurred_at, e.message_id) for e in batch.events] == [
        (T.DROPPED, "hello@world.com", SEP_14, SYMFONY_MESSAGE_ID)
    ]


def test_symfony_batch_keeps_a_click_without_a_url():
    batch = parse_sendgrid_events((SENDGRID / "symfony/batch.json").read_bytes())
    assert batch.rejected == []
    assert [(e.event_type, e.url, e.occurred_at) for e in batch.events] == [
        (T.DROPPED, None, SEP_14),
        (T.CLICK, None, SEP_14),
    ]
    # The two share an sg_event_id, yet are two events with two ids.
    assert len({e.message_event_id for e in batch.events}) == 2


def test_signed_batch_parses_after_verification():
    key, payload, signature, timestamp = signed_case("multiple")
    verify_sendgrid_signature(key, payload, signature, timestamp)
    batch = parse_sendgrid_events(payload)
    assert [(e.event_type, e.bounce_type, e.occurred_at) for e in batch.events] == [
        (T.SENT, None, datetime(2021, 4, 28, 23, 5, 46)),
        (T.BOUNCE, BounceType.SOFT, datetime(2021, 4, 28, 23, 5, 47)),  # type "blocked"
    ]
    assert {e.recipient for e in batch.events} == {"invalid@gmail.com"}


NODEJS = SENDGRID / "sendgrid-nodejs/example-event-notification.txt"


def test_nodejs_example_is_not_json_and_is_refused_whole():
    with pytest.raises(
        FeedbackParseError, match=r"not valid JSON: Expecting property name .* at line 1 column 5"
    ):
        parse_sendgrid_events(NODEJS.read_bytes())


def test_every_event_type_of_the_nodejs_example():
    # The file is Node's object-literal notation, which YAML's flow style reads; as JSON it is
    # what SendGrid sends.
    payload = json.dumps(yaml.safe_load(NODEJS.read_text())).encode()
    batch = parse_sendgrid_events(payload)
    assert batch.rejected == []
    assert [e.event_type for e in batch.events] == [
        T.SENT,
        T.DEFERRED,
        T.DELIVERED,
        T.OPEN,
        T.CLICK,
        T.BOUNCE,
        T.DROPPED,
        T.COMPLAINT,
        T.UNSUBSCRIBE,
        T.UNSUBSCRIBE,  # group_unsubscribe
        T.RESUBSCRIBE,  # group_resubscribe: kept, so an opt-back-in is never lost
    ]
    assert {e.occurred_at for e in batch.events} == {datetime(2018, 10, 13, 20, 25, 5)}
    assert len({e.message_event_id for e in batch.events}) == 11


def test_our_custom_args_match_the_event():
    event = json.loads((SENDGRID / "symfony_pr51305/delivered.json").read_text())[0]
    event |= {
        "tidemark_message_id": "msg_42_0001234",
        "tidemark_profile_id": "p_0001234",
        "tidemark_campaign_id": "welcome",
    }
    (parsed,) = parse_sendgrid_events(json.dumps([event]).encode()).events
    assert parsed.message_id == "msg_42_0001234" and parsed.is_matched
    assert (parsed.profile_id, parsed.campaign_id) == ("p_0001234", "welcome")
    assert parsed.provider_message_id == "sg_message_id"


def test_one_bad_event_does_not_lose_the_good_ones():
    good = json.loads((SENDGRID / "symfony/batch.json").read_text())
    bad = [
        {**good[0], "event": "teleported"},
        {**good[0], "timestamp": "yesterday"},
        {k: v for k, v in good[0].items() if k != "email"},
        {k: v for k, v in good[0].items() if k != "sg_message_id"},
        {**good[0], "event": "bounce", "type": "maybe"},
        "not an object",
    ]
    batch = parse_sendgrid_events(json.dumps([good[0], *bad, good[1]]).encode())
    assert [e.event_type for e in batch.events] == [T.DROPPED, T.CLICK]
    assert [(r.index, r.reason) for r in batch.rejected] == [
        (
            1,
            "SendGrid event type 'teleported' is not one of bounce, click, deferred, "
            "delivered, dropped, group_resubscribe, group_unsubscribe, open, processed, "
            "spamreport, unsubscribe",
        ),
        (2, "SendGrid event field 'timestamp' must be unix seconds"),
        (3, "SendGrid event field 'email' must be a non-empty string"),
        (4, "SendGrid event has neither 'tidemark_message_id' nor 'sg_message_id'"),
        (5, "SendGrid bounce type 'maybe' is not 'bounce' or 'blocked'"),
        (6, "a SendGrid event must be a JSON object"),
    ]
    assert batch.rejected[0].item == bad[0]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "not valid JSON"),
        (b'{"event": "open"}', "must be a JSON array"),
        (b"\xff\xfe[]", "not UTF-8|not valid JSON"),
    ],
)
def test_a_payload_that_is_not_an_event_array_is_refused(payload, reason):
    with pytest.raises(FeedbackParseError, match=reason):
        parse_sendgrid_events(payload)


def test_soft_bounce_without_a_type_is_judged_by_its_status():
    event = json.loads((SENDGRID / "symfony_pr51305/bounce.json").read_text())[0]
    event["status"] = "4.2.2"
    (parsed,) = parse_sendgrid_events(json.dumps([event]).encode()).events
    assert parsed.bounce_type == BounceType.SOFT
