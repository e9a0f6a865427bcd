"""The secret filter removes configured secrets and anything shaped like a credential."""

from __future__ import annotations

import base64
from urllib.parse import quote

from pydantic import SecretStr

from connectors.destinations.secrets import REDACTED, SecretFilter

SECRET = "s3cr3t/with+special=chars"


def test_configured_secrets_are_removed_in_every_form() -> None:
    secret_filter = SecretFilter([SecretStr(SECRET), None])
    text = (
        f"raw {SECRET}; url {quote(SECRET, safe='')}; "
        f"b64 {base64.b64encode(SECRET.encode()).decode()}"
    )
    redacted = secret_filter.redact(text)
    assert SECRET not in redacted
    assert quote(SECRET, safe="") not in redacted
    assert redacted.count(REDACTED) == 3


def test_credentials_are_removed_by_shape_even_when_not_configured() -> None:
    secret_filter = SecretFilter()
    samples = {
        "Authorization: Bearer abcdef123456": "abcdef123456",
        "{'authorization': 'Basic dXNlcjpwYXNzd29yZA=='}": "dXNlcjpwYXNzd29yZA==",
        "key SG.abcdefghijkl.mnopqrstuvwxyz0123 refused": "SG.abcdefghijkl.mnopqrstuvwxyz0123",
        "secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa rejected": "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa",
        "https://user:hunter2hunter2@smtp.example.com:587": "hunter2hunter2",
        "password=hunter2hunter2&user=x": "hunter2hunter2",
        '{"api_key": "k-123456789"}': "k-123456789",
    }
    for text, credential in samples.items():
        assert credential not in secret_filter.redact(text), text


def test_ordinary_text_is_left_alone() -> None:
    secret_filter = SecretFilter(["tiny", "a-real-secret"])
    text = "HTTP 400: Does not contain a valid address. (personalizations.3.to.0.email)"
    assert secret_filter.redact(text) == text
    assert secret_filter.redact("tiny things") == "tiny things"  # too short to be a secret
