"""The Shopify Admin REST API, read-only: list a resource page by page, politely.

- Pages follow the `Link: <…page_info=…>; rel="next"` header (cursor pagination). Only the
  `page_info` token is taken from it; the URL is rebuilt on the configured shop, so the access
  token is never sent to a host the answer names.
- 429 waits what `Retry-After` says (Shopify's leaky bucket refills at its own pace); 5xx and
  connection failures are retried with exponential backoff. Which answers are retried comes
  from the one HTTP error table (`connectors.destinations.errors`); listing is a read, so an
  answer lost in transit is simply asked again.
- Waiting goes through an injectable `sleep`, so tests run on fake time.
- The access token travels only in `X-Shopify-Access-Token`; every error message passes
  through the secret filter.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import SecretStr

from connectors.destinations.errors import (
    FATAL_RUN,
    IN_DOUBT,
    RETRIABLE,
    Failure,
    classify_http_status,
)
from connectors.destinations.http_exchange import HttpAnswer, exchange, provider_client
from connectors.destinations.secrets import SecretFilter
from connectors.settings import Settings
from connectors.sources.shopify.streams import ShopifyStream

PAGE_SIZE = 250  # the Admin API's maximum
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class ShopifyNotConfiguredError(RuntimeError):
    """Shopify settings are missing; the message says which."""


class ShopifyApiError(RuntimeError):
    """The API refused or kept failing; `fatal` when retrying later cannot help (credentials)."""

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


@dataclass(frozen=True)
class ShopifyConfig:
    """Where the shop's Admin API is and the token that reads it."""

    shop: str
    access_token: SecretStr
    api_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ShopifyConfig:
        missing = [
            f"TIDEMARK_{name.upper()}"
            for name in ("shopify_shop", "shopify_access_token")
            if getattr(settings, name) is None
        ]
        if missing:
            raise ShopifyNotConfiguredError(f"Shopify sync needs {' and '.join(missing)}")
        assert settings.shopify_shop is not None and settings.shopify_access_token is not None
        api_url = settings.shopify_api_url or (
            f"https://{settings.shopify_shop}/admin/api/{settings.shopify_api_version}"
        )
        return cls(settings.shopify_shop, settings.shopify_access_token, api_url.rstrip("/"))


@dataclass(frozen=True)
class Page:
    """One page of a resource listing."""

    number: int
    records: list[Mapping[str, Any]]


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying one request."""

    max_attempts: int = 8
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0

    def backoff(self, attempt: int) -> float:
        return float(min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1)))


class ShopifyClient:
    """Lists Admin API resources for one shop."""

    def __init__(
        self,
        config: ShopifyConfig,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        timeout_s: float = 30.0,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.config = config
        self.page_size = page_size
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._secrets = SecretFilter([config.access_token])
        self._http = provider_client(
            timeout_s,
            headers={
                "X-Shopify-Access-Token": config.access_token.get_secret_value(),
                "Accept": "application/json",
            },
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ShopifyClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def pages(self, stream: ShopifyStream, updated_since: datetime | None) -> Iterator[Page]:
        """Pages of `stream` updated at or after `updated_since`, oldest change first."""
        params: dict[str, str] = {
            "limit": str(self.page_size),
            "order": "updated_at asc",
            **stream.extra_params,
        }
        if updated_since is not None:
            params["updated_at_min"] = updated_since.replace(tzinfo=UTC).isoformat()
        number = 1
        while True:
            answer = self._get(stream.path, params)
            document = answer.json_object()
            records = document.get(stream.name)
            if not isinstance(records, list):
                raise ShopifyApiError(
                    f"GET {stream.path} page {number}: the answer has no {stream.name!r} list "
                    f"(got {self._secrets.redact(answer.text_excerpt(200))!r})"
                )
            yield Page(number=number, records=records)
            page_info = next_page_info(answer.headers.get("link", ""))
            if page_info is None:
                return
            # With page_info, Shopify accepts only limit (and fields): the filter rides in it.
            params = {"limit": str(self.page_size), "page_info": page_info}
            number += 1

    def _get(self, path: str, params: Mapping[str, str]) -> HttpAnswer:
        url = f"{self.config.api_url}/{path}"
        last: Failure | None = None
        for attempt in range(1, self.retry.max_attempts + 1):
            outcome = exchange(self._http, self._http.build_request("GET", url, params=params))
            if isinstance(outcome, HttpAnswer):
                if outcome.ok:
                    return outcome
                failure = classify_http_status(
                    outcome.status,
                    outcome.text_excerpt(300),
                    outcome.headers,
                    now=self._clock(),
                )
            elif outcome.error_class is IN_DOUBT:
                # A read: an answer lost in transit is asked for again, never "in doubt".
                failure = replace(outcome, error_class=RETRIABLE)
            else:
                failure = outcome
            last = failure
            if failure.error_class is not RETRIABLE or attempt == self.retry.max_attempts:
                break
            wait = failure.retry_after_s
            self._sleep(wait if wait is not None else self.retry.backoff(attempt))
        assert last is not None
        message = self._secrets.redact(
            f"GET {path} failed after {attempt} attempt{'s' if attempt > 1 else ''}: {last.message}"
        )
        raise ShopifyApiError(message, fatal=last.error_class is FATAL_RUN)


def next_page_info(link_header: str) -> str | None:
    """The `page_info` of the `rel="next"` link, if there is a next page."""
    match = _NEXT_LINK.search(link_header)
    if match is None:
        return None
    values = parse_qs(urlsplit(match.group(1)).query).get("page_info")
    return values[0] if values else None
