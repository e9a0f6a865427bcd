"""The secret filter: the last step of every text that leaves a destination.

Provider errors quote requests back, HTTP libraries put URLs and headers in exception text,
and a misconfigured provider may even echo a key. So every error message, exception and log
line a destination produces passes through `SecretFilter.redact`, which removes:

- the destination's configured secrets, verbatim and in their URL-encoded and base64 forms;
- credentials recognisable by shape even when we did not configure them: Authorization
  headers, Bearer/Basic tokens, SendGrid keys (`SG.x.y`), Standard Webhooks secrets
  (`whsec_...`), `password=`/`api_key=`/`token=` pairs and passwords in URLs.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from pydantic import SecretStr

REDACTED = "[REDACTED]"

# Shorter values would redact ordinary words; secrets are never this short.
_MIN_SECRET_LENGTH = 6

_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    # "Authorization: Bearer abc", "authorization": "Basic abc", Proxy-Authorization=...
    (
        re.compile(r"(?i)\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)[^\r\n\"',;}]+"),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), rf"\1 {REDACTED}"),
    (re.compile(r"\bSG\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}"), REDACTED),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]{6,}"), REDACTED),
    (
        re.compile(
            r"(?i)\b((?:api[_-]?key|apikey|auth[_-]?token|access[_-]?token|secret(?:[_-]?key)?"
            r"|password|passwd|pwd)[\"']?\s*[:=]\s*[\"']?)[^\s\"',&;}]+"
        ),
        rf"\1{REDACTED}",
    ),
    # scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+@"), rf"\1{REDACTED}@"),
)


class SecretFilter:
    """Removes one destination's secrets, and anything shaped like a credential, from text."""

    def __init__(self, secrets: Iterable[str | SecretStr | None] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
            if not value or len(value) < _MIN_SECRET_LENGTH:
                continue
            forms.update(
                {
                    value,
                    quote(value, safe=""),
                    quote_plus(value),
                    base64.b64encode(value.encode()).decode(),
                    base64.urlsafe_b64encode(value.encode()).decode(),
                }
            )
        # Longest first, so a secret containing another is removed whole.
        self._literals = sorted(forms, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for literal in self._literals:
            text = text.replace(literal, REDACTED)
        for pattern, replacement in _SHAPES:
            text = pattern.sub(replacement, text)
        return text
