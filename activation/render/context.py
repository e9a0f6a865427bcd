"""What rendering needs beyond the template and the recipient's row, and what a template sees.

A `RenderContext` is built once per activation run (from settings and the activation) and
shared by every recipient: where unsubscribe links point, the secret that signs them, the
time zone dates fall back to, and variables common to all recipients (campaign name, a
coupon code). Per recipient, a template sees those variables, then the segment row's
columns, then the names Tidemark provides, which a column cannot override: a row must never
be able to point `unsubscribe_url` elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from activation.render.errors import TemplateRenderError
from activation.render.filters import zone
from activation.render.sandbox import TEMPLATE_GLOBALS

PROVIDED_VARIABLES = frozenset({"unsubscribe_url", "message_id", "profile_id"})
"""Names every template can use; a row column with one of these names is shadowed."""

_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class RenderContext:
    """Settings shared by every message of one activation run."""

    unsubscribe_base_url: str  # e.g. https://tidemark.example.com → https://…/u/<token>
    unsubscribe_secret: bytes = field(repr=False)
    unsubscribe_mailto: str | None = None  # optional second List-Unsubscribe target
    default_timezone: str = "UTC"  # for recipients without a valid `time_zone`
    variables: Mapping[str, Any] = field(default_factory=dict)
    unsubscribe_prefix: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        url = urlsplit(self.unsubscribe_base_url)
        loopback = url.scheme == "http" and url.hostname in _LOOPBACK_HOSTS
        if not (url.scheme == "https" or loopback) or not url.hostname:
            raise ValueError(
                "unsubscribe_base_url must be an https:// URL (RFC 8058 one-click unsubscribe); "
                "plain http is accepted only for localhost"
            )
        if url.query or url.fragment:
            raise ValueError("unsubscribe_base_url must not have a query or a fragment")
        if not isinstance(self.unsubscribe_secret, bytes) or len(self.unsubscribe_secret) < 16:
            raise ValueError("unsubscribe_secret must be at least 16 bytes")
        if self.unsubscribe_mailto is not None:
            try:
                validate_email(self.unsubscribe_mailto, check_deliverability=False)
            except EmailNotValidError as error:
                raise ValueError(f"unsubscribe_mailto is not an email address: {error}") from None
        try:
            zone(self.default_timezone)
        except TemplateRenderError as error:
            raise ValueError(f"default_timezone: {error}") from None
        prefix = self.unsubscribe_base_url.rstrip("/") + "/u/"
        object.__setattr__(self, "unsubscribe_prefix", prefix)

    def unsubscribe_url(self, token: str) -> str:
        return self.unsubscribe_prefix + token


@lru_cache(maxsize=1024)
def _is_time_zone(name: str) -> bool:
    try:
        zone(name)
    except TemplateRenderError:
        return False
    return True


def recipient_time_zone(row: Mapping[str, Any], context: RenderContext) -> str:
    """The zone dates are shown in: the row's `time_zone` when valid, else the default."""
    candidate = row.get("time_zone")
    if isinstance(candidate, str) and candidate and _is_time_zone(candidate):
        return candidate
    return context.default_timezone


def template_variables(
    row: Mapping[str, Any],
    context: RenderContext,
    *,
    message_id: str,
    profile_id: str,
    unsubscribe_url: str,
) -> dict[str, Any]:
    """The variables one recipient's templates see (the template globals included)."""
    return {
        **TEMPLATE_GLOBALS,
        **context.variables,
        **row,
        "unsubscribe_url": unsubscribe_url,
        "message_id": message_id,
        "profile_id": profile_id,
    }
