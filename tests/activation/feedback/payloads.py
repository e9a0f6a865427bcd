"""The shared real-world payloads, and a certificate loader that serves their PEMs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from activation.feedback import CertificateUnavailableError
from tests.fixtures.shared_payloads import SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES
SES = FIXTURES / "ses"
SENDGRID = FIXTURES / "sendgrid"

DJANGO_BOUNCY_PEM = (
    SES / "django-bouncy/SimpleNotificationService-e372f8ca30337fdb084e8ac449342c77.pem"
)
ACTION_MAILBOX_PEM = SES / "action_mailbox_amazon_ingress/certificate.pem"
# What each SigningCertURL in the fixtures serves. The bb750dd4... certificate that signed
# django-bouncy's delivery notification is not included: fetching it fails.
CERTIFICATES = {
    "https://sns.us-east-1.amazonaws.com/" + DJANGO_BOUNCY_PEM.name: DJANGO_BOUNCY_PEM,
    "https://sns.eu-west-1.amazonaws.com/"
    "SimpleNotificationService-a86cb10b4e1f29c941702d737128f7b6.pem": ACTION_MAILBOX_PEM,
}


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


def lambda_sns(path: Path) -> dict[str, Any]:
    """The object at Records[0].Sns of a Lambda-style SNS event file."""
    return load_json(path)["Records"][0]["Sns"]


class FixtureCertificates:
    """A `CertificateLoader` serving the fixtures' PEM files, counting what was asked for."""

    def __init__(self, certificates: dict[str, Path] | None = None) -> None:
        self.certificates = CERTIFICATES if certificates is None else certificates
        self.requested: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.requested.append(url)
        if url not in self.certificates:
            raise CertificateUnavailableError(f"no certificate at {url}")
        return self.certificates[url].read_bytes()
