"""The ways a provider notification is refused, each telling the caller what to answer.

The webhook endpoints map these to HTTP answers: a forged or unverifiable notification is
refused for good (`SignatureVerificationError`, 4xx), a notification we cannot read is refused
with the reason (`FeedbackParseError`, 4xx), and a signing certificate we could not fetch
right now is a passing problem the provider should retry (`CertificateUnavailableError`, 5xx).
Messages never include key material or request bodies, only the field that was wrong.
"""

from __future__ import annotations


class SignatureVerificationError(ValueError):
    """The notification cannot be shown to come from the provider; never process it."""


class CertificateUnavailableError(RuntimeError):
    """The signing certificate could not be fetched now; the provider should retry later."""


class FeedbackParseError(ValueError):
    """A verified notification whose content Tidemark cannot turn into message events."""
