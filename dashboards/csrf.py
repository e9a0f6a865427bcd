"""Cross-site request forgery protection for the dashboards' cookie-authenticated forms.

Two layers, because either alone has gaps:

- the session cookie is `SameSite=Strict`, so browsers do not attach it to requests that
  another site starts (links, forms, scripts);
- every state-changing form carries a per-session token, checked on submit. The token is an
  HMAC of a fixed label keyed by the session's own API token, so it needs no server-side
  storage or extra secret, changes with every sign-in, and reveals nothing about the API
  token (HMAC is one-way). A forged form from elsewhere cannot know it.

Bearer-token callers (the JSON API) are not affected: they never carry the cookie.
"""

from __future__ import annotations

import hashlib
import hmac

CSRF_FIELD = "csrf_token"
"""The hidden form field that carries the token."""

_LABEL = b"tidemark-dashboard-csrf-v1"


class CsrfError(PermissionError):
    """A state-changing form arrived without this session's token."""


def csrf_token_for(session_token: str) -> str:
    """The form token for the session signed in with `session_token`."""
    return hmac.new(session_token.encode(), _LABEL, hashlib.sha256).hexdigest()


def check_csrf(session_token: str, submitted: str | None) -> None:
    """Refuse a submission whose token is missing or belongs to another session."""
    if not submitted or not hmac.compare_digest(csrf_token_for(session_token), submitted):
        raise CsrfError(
            "this form has expired or did not come from this dashboard; reload the page "
            "and try again"
        )
