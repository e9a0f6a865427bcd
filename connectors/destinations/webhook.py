"""Signed webhooks: POST each message's JSON payload to its URL, per Standard Webhooks.

- Signing: `webhook-id` is our message id (the same on every retry, so the receiver can
  deduplicate), `webhook-timestamp` the attempt's time, `webhook-signature` the HMAC (see
  `standard_webhooks.py`).
- SSRF: the host is resolved once and refused when it is not a public address (see
  `ssrf_guard.py`), unless the destination was built with `allow_private=True` (tests only;
  not reachable through the registry or any configuration). The request then goes to that
  resolved address, with the original name in the Host header and for TLS (SNI and
  certificate check), so DNS rebinding cannot redirect it.
- Redirects are never followed (a 3xx is fatal for the message): following one would let an
  endpoint send our signed payload, and our request, anywhere.
- 401/403 stop the run: the signing secret is this destination's one credential, and a
  receiver refusing it will refuse every message signed with it.

Each message may go to its own URL, so a throttled or failing endpoint stops only the
messages for that same endpoint in the batch, not those for other endpoints.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Sequence
from typing import ClassVar

import httpx
from pydantic import Field, SecretStr

from connectors.destinations.base import (
    Destination,
    DestinationConfigError,
    DestinationSettings,
    FatalRunError,
)
from connectors.destinations.errors import (
    FATAL_MESSAGE,
    FATAL_RUN,
    RETRIABLE,
    Failure,
    classify_http_status,
)
from connectors.destinations.http_exchange import exchange, provider_client
from connectors.destinations.message import Channel, OutboundMessage, SendOutcome
from connectors.destinations.rate_limit import RateLimiter
from connectors.destinations.ssrf_guard import (
    BlockedDestinationError,
    Resolver,
    pinned_address,
    system_resolver,
)
from connectors.destinations.standard_webhooks import decode_secret, signed_headers

_DEFAULT_PORTS = {"http": 80, "https": 443}
_TEMPORARY_DNS_ERRORS = frozenset({socket.EAI_AGAIN})


class WebhookConfig(DestinationSettings):
    signing_secret: SecretStr = Field(description="whsec_<base64>, shared with the receivers.")
    require_https: bool = Field(default=True, description="Refuse plain-http URLs.")


class WebhookDestination(Destination):
    kind: ClassVar[str] = "webhook"
    channel: ClassVar[Channel] = Channel.WEBHOOK
    config_model: ClassVar[type[DestinationSettings]] = WebhookConfig
    default_batch_size: ClassVar[int] = 50
    default_rate_limit_per_s: ClassVar[float] = 50.0

    def __init__(
        self,
        config: WebhookConfig,
        *,
        rate_limiter: RateLimiter | None = None,
        allow_private: bool = False,
        resolver: Resolver = system_resolver,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(config, rate_limiter=rate_limiter)
        self.config = config
        self.allow_private = allow_private
        self._resolver = resolver
        self._clock = clock
        self._client = provider_client(config.timeout_s, headers={"User-Agent": "tidemark"})

    def check(self) -> None:
        """The signing secret must be a well-formed `whsec_` secret."""
        self._signing_key()

    def close(self) -> None:
        self._client.close()

    def _signing_key(self) -> bytes:
        try:
            return decode_secret(self.config.signing_secret.get_secret_value())
        except ValueError as error:
            raise self._config_error(str(error)) from None

    def _send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        try:
            key = self._signing_key()
        except DestinationConfigError as error:
            raise FatalRunError(str(error), code="invalid_secret") from None
        outcomes: list[SendOutcome] = []
        halted: dict[tuple[str, str, int], Failure] = {}
        for message in messages:
            target = self._target(message)
            if isinstance(target, Failure):
                outcomes.append(self._failed(message, target))
                continue
            url, endpoint = target
            if endpoint in halted:
                outcomes.extend(self._not_attempted([message], halted[endpoint]))
                continue
            self.rate_limiter.acquire()
            result = self._post(url, message, key)
            if result is None:
                outcomes.append(SendOutcome.sent(message.message_id))
                continue
            if result.error_class is FATAL_RUN:
                raise self._fatal_run(result, outcomes)
            outcomes.append(self._failed(message, result))
            if result.provider_wide:
                halted[endpoint] = result
        return outcomes

    def _target(self, message: OutboundMessage) -> tuple[httpx.URL, tuple[str, str, int]] | Failure:
        """The URL to call and its endpoint key, after the scheme checks (SSRF: in _post)."""
        if message.payload is None:
            return Failure(FATAL_MESSAGE, "invalid", "no payload to send")
        try:
            url = httpx.URL(message.to)
        except httpx.InvalidURL as error:
            return Failure(FATAL_MESSAGE, "invalid_url", f"invalid webhook URL: {error}")
        allowed = ("https",) if self.config.require_https else ("https", "http")
        if url.scheme not in allowed or not url.host:
            return Failure(
                FATAL_MESSAGE, "invalid_url", f"webhook URL must be {' or '.join(allowed)}"
            )
        if url.userinfo:
            return Failure(FATAL_MESSAGE, "invalid_url", "webhook URL must not carry credentials")
        return url, (url.scheme, url.host, url.port or _DEFAULT_PORTS[url.scheme])

    def _post(self, url: httpx.URL, message: OutboundMessage, key: bytes) -> Failure | None:
        port = url.port or _DEFAULT_PORTS[url.scheme]
        try:
            address = pinned_address(
                url.host, port, allow_private=self.allow_private, resolver=self._resolver
            )
        except BlockedDestinationError as error:
            return Failure(FATAL_MESSAGE, "ssrf_refused", str(error))
        except OSError as error:
            error_class = (
                RETRIABLE
                if getattr(error, "errno", None) in _TEMPORARY_DNS_ERRORS
                else FATAL_MESSAGE
            )
            return Failure(error_class, "unresolved", f"cannot resolve {url.host}: {error}")
        body = json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Host": url.netloc.decode("ascii"),
            "Content-Type": "application/json",
            **signed_headers(key, message.message_id, int(self._clock()), body),
        }
        extensions = {}
        if url.scheme == "https" and url.host != str(address):
            extensions["sni_hostname"] = url.host  # TLS is checked against the name
        request = self._client.build_request(
            "POST",
            url.copy_with(host=str(address)),
            content=body,
            headers=headers,
            extensions=extensions,
        )
        answer = exchange(self._client, request)
        if isinstance(answer, Failure):
            return answer
        if answer.ok:
            return None
        return classify_http_status(
            answer.status, answer.text_excerpt(200), answer.headers, now=self._clock()
        )
