"""One HTTP request to a provider, answered either by its response or by a classified failure.

The HTTP destinations (SendGrid, SMS, webhooks) share how they talk HTTP: a client that never
follows redirects and never retries on its own (a retry after a lost answer could send a
message twice; retries are the engine's decision), explicit timeouts, and transport errors
classified by `errors.classify_http_transport_error` (refused → retriable, lost answer →
in doubt).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.destinations.errors import Failure, classify_http_transport_error

_CONNECT_TIMEOUT_S = 10.0


def provider_client(timeout_s: float, **options: Any) -> httpx.Client:
    """An httpx client for provider calls: no redirects, no transport retries, bounded waits."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, _CONNECT_TIMEOUT_S)),
        follow_redirects=False,
        transport=httpx.HTTPTransport(retries=0),
        **options,
    )


@dataclass(frozen=True)
class HttpAnswer:
    """A provider's complete HTTP response."""

    status: int
    headers: httpx.Headers
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, or {} when it is not one."""
        try:
            value = json.loads(self.body)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def text_excerpt(self, limit: int = 500) -> str:
        return self.body[:limit].decode("utf-8", errors="replace")


def exchange(client: httpx.Client, request: httpx.Request) -> HttpAnswer | Failure:
    """Send `request` and read the whole response, or say how it failed."""
    try:
        response = client.send(request)
    except httpx.HTTPError as error:
        return classify_http_transport_error(error)
    return HttpAnswer(response.status_code, response.headers, response.content)
