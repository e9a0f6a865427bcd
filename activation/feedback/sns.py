"""Amazon SNS message verification: only AWS-signed messages from our own topics get through.

SES reports bounces, complaints and deliveries through SNS, which POSTs JSON to our endpoint.
Anyone can POST that JSON, so before a notification is believed:

1. its `SigningCertURL` must be https on an `sns.<region>.amazonaws.com` host (the certificate
   is then fetched over TLS from AWS, which is what makes it trustworthy);
2. its `TopicArn` must be one of ours: AWS signs messages from *every* account's topics, so a
   valid signature alone would let a stranger's topic feed us fake bounces;
3. the certificate must be valid now, and the RSA signature (`SignatureVersion` 1: SHA1,
   2: SHA256) must match the canonical string AWS documents for the message `Type`.

Fetching the certificate is injected (`certificate_loader`), so tests serve fixture PEMs and
production uses `activation.feedback.sns_certificates.HttpsCertificateLoader`.
"""

from __future__ import annotations

import base64
import binascii
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from activation.feedback.errors import FeedbackParseError, SignatureVerificationError

CertificateLoader = Callable[[str], bytes]
"""Returns the PEM bytes at an https URL; raises `CertificateUnavailableError` when it can't."""

NOTIFICATION = "Notification"
SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"

# The fields AWS signs, in the order it signs them (documented per message type).
_SIGNED_FIELDS: dict[str, tuple[str, ...]] = {
    NOTIFICATION: ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    SUBSCRIPTION_CONFIRMATION: (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
    UNSUBSCRIBE_CONFIRMATION: (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_OPTIONAL_SIGNED_FIELDS = frozenset({"Subject"})

_HASH_BY_SIGNATURE_VERSION: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "1": hashes.SHA1,
    "2": hashes.SHA256,
}

# sns.<region>.amazonaws.com, and the China partition's sns.<region>.amazonaws.com.cn.
_SNS_HOST = re.compile(r"sns\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com(\.cn)?")


def _text_field(message: Mapping[str, Any], name: str) -> str:
    value = message.get(name)
    if not isinstance(value, str) or not value:
        raise SignatureVerificationError(f"SNS message has no {name!r} (a non-empty string)")
    return value


def _require_sns_url(url: str, field: str) -> None:
    """`url` must be plain https on an SNS host: no other scheme, host, port or credentials."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise SignatureVerificationError(f"{field} must use https, not {parts.scheme or 'none'!r}")
    host = parts.hostname or ""
    if parts.username or parts.password or parts.port not in (None, 443):
        raise SignatureVerificationError(f"{field} must not carry credentials or a port")
    if not _SNS_HOST.fullmatch(host):
        raise SignatureVerificationError(
            f"{field} host {host!r} is not an Amazon SNS host (sns.<region>.amazonaws.com)"
        )


def canonical_string(message: Mapping[str, Any]) -> bytes:
    """The bytes AWS signed: `name\\nvalue\\n` for each signed field of the message's Type."""
    message_type = _text_field(message, "Type")
    fields = _SIGNED_FIELDS.get(message_type)
    if fields is None:
        known = ", ".join(_SIGNED_FIELDS)
        raise SignatureVerificationError(f"SNS message Type {message_type!r} is not one of {known}")
    lines = []
    for name in fields:
        if name in _OPTIONAL_SIGNED_FIELDS and name not in message:
            continue
        lines.append(f"{name}\n{_text_field(message, name)}\n")
    return "".join(lines).encode()


def _load_certificate(pem: bytes, now: datetime) -> rsa.RSAPublicKey:
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError as error:
        raise SignatureVerificationError(
            "the signing certificate is not a PEM X.509 certificate"
        ) from error
    if now < certificate.not_valid_before_utc:
        raise SignatureVerificationError(
            f"the signing certificate is not valid before {certificate.not_valid_before_utc}"
        )
    if now > certificate.not_valid_after_utc:
        raise SignatureVerificationError(
            f"the signing certificate expired on {certificate.not_valid_after_utc}"
        )
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureVerificationError("the signing certificate does not hold an RSA key")
    return key


def verify_sns_message(
    message: Mapping[str, Any],
    *,
    certificate_loader: CertificateLoader,
    allowed_topic_arns: Collection[str] | None,
    now: datetime | None = None,
) -> None:
    """Raise `SignatureVerificationError` unless AWS signed `message` for one of our topics.

    `allowed_topic_arns` is required on purpose: pass the topics SES publishes to. `None`
    accepts any topic and is only for tests and tools. `now` (naive means UTC) defaults to
    the current time and is checked against the certificate's validity. A certificate that
    cannot be fetched raises the loader's `CertificateUnavailableError`, worth a retry.
    """
    if not isinstance(message, Mapping):
        raise SignatureVerificationError("an SNS message must be a JSON object")
    signed = canonical_string(message)  # checks Type and that every signed field is present
    topic = _text_field(message, "TopicArn")
    if allowed_topic_arns is not None and topic not in allowed_topic_arns:
        raise SignatureVerificationError(f"SNS topic {topic!r} is not one we subscribed to")

    version = _text_field(message, "SignatureVersion")
    hash_algorithm = _HASH_BY_SIGNATURE_VERSION.get(version)
    if hash_algorithm is None:
        raise SignatureVerificationError(
            f"SNS SignatureVersion {version!r} is not supported (1 or 2)"
        )
    signature_b64 = _text_field(message, "Signature")
    try:
        signature = base64.b64decode(signature_b64)
    except (binascii.Error, ValueError) as error:
        raise SignatureVerificationError("SNS Signature is not valid base64") from error

    certificate_url = _text_field(message, "SigningCertURL")
    _require_sns_url(certificate_url, "SigningCertURL")
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    key = _load_certificate(certificate_loader(certificate_url), moment)
    try:
        key.verify(signature, signed, padding.PKCS1v15(), hash_algorithm())
    except InvalidSignature:
        raise SignatureVerificationError(
            "SNS signature does not match the message (tampered, or signed by another key)"
        ) from None


def subscribe_url(message: Mapping[str, Any]) -> str:
    """The URL to GET to confirm a (verified) SubscriptionConfirmation; never fetched here.

    The URL is checked like the certificate URL, so confirming cannot be turned into a request
    to anywhere but Amazon SNS.
    """
    message_type = message.get("Type")
    if message_type != SUBSCRIPTION_CONFIRMATION:
        raise FeedbackParseError(
            f"only a {SUBSCRIPTION_CONFIRMATION} has a SubscribeURL, not a {message_type!r}"
        )
    url = message.get("SubscribeURL")
    if not isinstance(url, str) or not url:
        raise FeedbackParseError("SubscriptionConfirmation has no SubscribeURL")
    try:
        _require_sns_url(url, "SubscribeURL")
    except SignatureVerificationError as error:
        raise FeedbackParseError(str(error)) from None
    return url


_SNS_XML_NAMESPACE = "{http://sns.amazonaws.com/doc/2010-03-31/}"
_MAX_CONFIRMATION_BYTES = 64 * 1024


def subscription_arn_from_confirmation(body: bytes) -> str:
    """The SubscriptionArn in SNS's answer to a GET of the SubscribeURL.

    The caller fetched `subscribe_url(...)`; this reads the XML it got back so the
    confirmation can be recorded (and a failed one noticed) without anyone reading XML.
    """
    if len(body) > _MAX_CONFIRMATION_BYTES:
        raise FeedbackParseError("the ConfirmSubscription answer is implausibly large")
    try:
        # The body comes from an Amazon SNS host over https (checked by `subscribe_url`);
        # expat neither fetches external entities nor expands entity bombs.
        root = ElementTree.fromstring(body)  # noqa: S314
    except ElementTree.ParseError as error:
        raise FeedbackParseError(f"the ConfirmSubscription answer is not XML: {error}") from None
    arn = root.findtext(
        f"{_SNS_XML_NAMESPACE}ConfirmSubscriptionResult/{_SNS_XML_NAMESPACE}SubscriptionArn"
    )
    if not arn or not arn.strip():
        raise FeedbackParseError("the ConfirmSubscription answer has no SubscriptionArn")
    return arn.strip()
