"""SNS verification against real AWS-signed fixtures, a test certificate, and our own v2 key."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from activation.feedback import (
    CertificateUnavailableError,
    FeedbackParseError,
    SignatureVerificationError,
    subscribe_url,
    subscription_arn_from_confirmation,
    verify_sns_message,
)

from .payloads import SES, FixtureCertificates, load_json

BOUNCY = SES / "django-bouncy"
MAILBOX = SES / "action_mailbox_amazon_ingress"
# The fixtures' certificates have expired; verify as of a moment each was valid.
BOUNCY_ERA = datetime(2014, 1, 1, tzinfo=UTC)
MAILBOX_ERA = datetime(2024, 6, 1, tzinfo=UTC)

SIGNED_BY_AWS = [
    "example_bounce_notification.json",
    "example_complaint_notification.json",
    "example_subscriptionconfirmation.json",
]
SIGNED_BY_TEST_CERTIFICATE = [
    "valid_signature.json",
    "recognized_topic_subscription_request.json",
    "inbound_email.json",
]


def verify(message, *, now, topics=None, loader=None):
    verify_sns_message(
        message,
        certificate_loader=loader or FixtureCertificates(),
        allowed_topic_arns=topics,
        now=now,
    )


@pytest.mark.parametrize("name", SIGNED_BY_AWS)
def test_real_aws_signatures_verify(name):
    message = load_json(BOUNCY / name)
    loader = FixtureCertificates()
    verify(message, now=BOUNCY_ERA, topics={message["TopicArn"]}, loader=loader)
    assert loader.requested == [message["SigningCertURL"]]


@pytest.mark.parametrize("name", SIGNED_BY_TEST_CERTIFICATE)
def test_messages_signed_with_the_test_certificate_verify(name):
    verify(load_json(MAILBOX / name), now=MAILBOX_ERA)


def test_invalid_signature_fixture_is_refused():
    with pytest.raises(SignatureVerificationError, match="signature does not match"):
        verify(load_json(MAILBOX / "invalid_signature.json"), now=MAILBOX_ERA)


@pytest.mark.parametrize(
    ("folder", "name", "era"),
    [(BOUNCY, n, BOUNCY_ERA) for n in SIGNED_BY_AWS]
    + [(MAILBOX, n, MAILBOX_ERA) for n in SIGNED_BY_TEST_CERTIFICATE],
)
def test_changing_one_byte_of_a_signed_field_breaks_the_signature(folder, name, era):
    message = load_json(folder / name)
    text = message["Message"]
    message["Message"] = text[:10] + chr(ord(text[10]) ^ 1) + text[11:]
    with pytest.raises(SignatureVerificationError, match="signature does not match"):
        verify(message, now=era)


def test_changing_one_byte_of_the_signature_breaks_it():
    message = load_json(BOUNCY / "example_bounce_notification.json")
    raw = bytearray(base64.b64decode(message["Signature"]))
    raw[0] ^= 0x01
    message["Signature"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(SignatureVerificationError, match="signature does not match"):
        verify(message, now=BOUNCY_ERA)


def test_a_signature_checked_against_another_certificate_fails():
    # django-bouncy's delivery notification names a certificate that is not included; served
    # the one its sibling fixtures were signed with, it must not verify.
    message = load_json(BOUNCY / "example_delivery_notification.json")
    loader = FixtureCertificates(
        {
            message["SigningCertURL"]: BOUNCY
            / ("SimpleNotificationService-e372f8ca30337fdb084e8ac449342c77.pem")
        }
    )
    with pytest.raises(SignatureVerificationError, match="signature does not match"):
        verify(message, now=BOUNCY_ERA, loader=loader)


def test_a_certificate_that_cannot_be_fetched_is_a_retriable_error():
    message = load_json(BOUNCY / "example_delivery_notification.json")
    with pytest.raises(CertificateUnavailableError):
        verify(message, now=BOUNCY_ERA)


def test_expired_and_not_yet_valid_certificates_are_refused():
    message = load_json(BOUNCY / "example_bounce_notification.json")
    with pytest.raises(SignatureVerificationError, match="expired on 2014-09-12"):
        verify(message, now=datetime(2026, 11, 27, tzinfo=UTC))
    with pytest.raises(SignatureVerificationError, match="not valid before"):
        verify(message, now=datetime(2012, 1, 1, tzinfo=UTC))


def test_a_topic_we_did_not_subscribe_to_is_refused_before_fetching_anything():
    message = load_json(MAILBOX / "valid_signature.json")  # example-topic, validly signed
    recognized = load_json(MAILBOX / "recognized_topic_subscription_request.json")
    loader = FixtureCertificates()
    with pytest.raises(SignatureVerificationError, match=r"example-topic.*not one we subscribed"):
        verify(message, now=MAILBOX_ERA, topics={recognized["TopicArn"]}, loader=loader)
    assert loader.requested == []
    verify(recognized, now=MAILBOX_ERA, topics={recognized["TopicArn"]})


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://sns.us-east-1.amazonaws.com/cert.pem", "must use https"),
        ("https://sns.us-east-1.amazonaws.com.evil.example/cert.pem", "not an Amazon SNS host"),
        ("https://evil.example/sns.us-east-1.amazonaws.com/cert.pem", "not an Amazon SNS host"),
        ("https://s3.amazonaws.com/sns.us-east-1/cert.pem", "not an Amazon SNS host"),
        ("https://attacker@sns.us-east-1.amazonaws.com/cert.pem", "credentials or a port"),
        ("https://sns.us-east-1.amazonaws.com:8443/cert.pem", "credentials or a port"),
    ],
)
def test_signing_certificate_urls_off_amazon_sns_are_refused(url, reason):
    message = load_json(BOUNCY / "example_bounce_notification.json")
    message["SigningCertURL"] = url
    loader = FixtureCertificates()
    with pytest.raises(SignatureVerificationError, match=reason):
        verify(message, now=BOUNCY_ERA, loader=loader)
    assert loader.requested == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"Type": "Telegram"}, "Type 'Telegram' is not one of"),
        ({"SignatureVersion": "3"}, "SignatureVersion '3' is not supported"),
        ({"MessageId": None}, "no 'MessageId'"),
        ({"Signature": None}, "no 'Signature'"),
    ],
)
def test_malformed_envelopes_are_refused_with_the_reason(change, reason):
    message = load_json(BOUNCY / "example_bounce_notification.json")
    for key, value in change.items():
        if value is None:
            del message[key]
        else:
            message[key] = value
    with pytest.raises(SignatureVerificationError, match=reason):
        verify(message, now=BOUNCY_ERA)


def test_a_subscription_confirmation_tampered_in_its_token_fails():
    message = load_json(BOUNCY / "example_subscriptionconfirmation.json")
    message["Token"] = message["Token"][:-1] + "0"
    with pytest.raises(SignatureVerificationError, match="signature does not match"):
        verify(message, now=BOUNCY_ERA)


# --- SignatureVersion 2 (SHA256withRSA), signed here with a key of our own -----------------

CERT_URL = "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-test.pem"


def _self_signed(key, now):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )


def _sign_v2(message, key):
    """Sign as the AWS documentation describes, independently of the code under test."""
    names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    text = "".join(f"{n}\n{message[n]}\n" for n in names if n in message)
    signature = key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    return {**message, "SignatureVersion": "2", "Signature": base64.b64encode(signature).decode()}


@pytest.fixture(scope="module")
def v2_signer(tmp_path_factory):
    now = datetime.now(UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path_factory.mktemp("sns") / "signing.pem"
    pem.write_bytes(_self_signed(key, now).public_bytes(serialization.Encoding.PEM))
    return key, FixtureCertificates({CERT_URL: pem})


def _notification(subject=None):
    message = {
        "Type": "Notification",
        "MessageId": "0b4c5f1e-6f0a-4d8e-9a51-2e1f3b9c7d10",
        "TopicArn": "arn:aws:sns:eu-central-1:123456789012:tidemark-feedback",
        "Message": json.dumps({"notificationType": "Delivery"}),
        "Timestamp": "2026-11-27T10:00:00.000Z",
        "SigningCertURL": CERT_URL,
    }
    if subject is not None:
        message["Subject"] = subject
    return message


@pytest.mark.parametrize("subject", [None, "Amazon SES Email Event Notification"])
def test_signature_version_2_verifies_with_sha256(v2_signer, subject):
    key, loader = v2_signer
    signed = _sign_v2(_notification(subject), key)
    verify_sns_message(signed, certificate_loader=loader, allowed_topic_arns=None)

    as_v1 = {**signed, "SignatureVersion": "1"}
    with pytest.raises(SignatureVerificationError, match="signature does not match"):
        verify_sns_message(as_v1, certificate_loader=loader, allowed_topic_arns=None)


def test_an_added_subject_breaks_the_signature(v2_signer):
    key, loader = v2_signer
    signed = {**_sign_v2(_notification(), key), "Subject": "injected"}
    with pytest.raises(SignatureVerificationError, match="signature does not match"):
        verify_sns_message(signed, certificate_loader=loader, allowed_topic_arns=None)


def test_a_certificate_without_an_rsa_key_is_refused(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = tmp_path / "ec.pem"
    pem.write_bytes(_self_signed(key, datetime.now(UTC)).public_bytes(serialization.Encoding.PEM))
    message = {**_notification(), "SignatureVersion": "2", "Signature": "AAAA"}
    with pytest.raises(SignatureVerificationError, match="does not hold an RSA key"):
        verify_sns_message(
            message,
            certificate_loader=FixtureCertificates({CERT_URL: pem}),
            allowed_topic_arns=None,
        )


def test_a_loader_answer_that_is_not_a_certificate_is_refused(tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"<html>not a certificate</html>")
    message = {**_notification(), "SignatureVersion": "2", "Signature": "AAAA"}
    with pytest.raises(SignatureVerificationError, match=r"not a PEM X\.509 certificate"):
        verify_sns_message(
            message,
            certificate_loader=FixtureCertificates({CERT_URL: junk}),
            allowed_topic_arns=None,
        )


# --- Subscription confirmation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        BOUNCY / "example_subscriptionconfirmation.json",
        MAILBOX / "valid_signature.json",
        MAILBOX / "recognized_topic_subscription_request.json",
    ],
)
def test_subscription_confirmations_give_the_url_to_visit(path):
    message = load_json(path)
    url = subscribe_url(message)
    assert url == message["SubscribeURL"]
    assert url.startswith("https://sns.") and "Action=ConfirmSubscription" in url


def test_only_subscription_confirmations_have_a_subscribe_url():
    with pytest.raises(FeedbackParseError, match="not a 'Notification'"):
        subscribe_url(load_json(BOUNCY / "example_bounce_notification.json"))


def test_a_subscribe_url_off_amazon_is_refused():
    message = load_json(BOUNCY / "example_subscriptionconfirmation.json")
    message["SubscribeURL"] = "https://169.254.169.254/latest/meta-data/"
    with pytest.raises(FeedbackParseError, match="not an Amazon SNS host"):
        subscribe_url(message)


def test_the_confirm_subscription_answer_gives_the_subscription_arn():
    body = (BOUNCY / "example_confirmsubscription.xml").read_bytes()
    assert subscription_arn_from_confirmation(body) == (
        "arn:aws:sns:us-east-1:250214102493:Demo_App_Unsubscribes:"
        "ea3b6375-551a-48a0-b318-d6b66585ae6f"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>Bad gateway", "not XML"),
        (
            b"<ErrorResponse><Error><Code>NotFound</Code></Error></ErrorResponse>",
            "no SubscriptionArn",
        ),
    ],
)
def test_a_failed_confirmation_answer_says_so(body, reason):
    with pytest.raises(FeedbackParseError, match=reason):
        subscription_arn_from_confirmation(body)
