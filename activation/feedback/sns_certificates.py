"""Fetch SNS signing certificates over https, once per URL.

AWS rotates its SNS signing certificate rarely and every notification names it, so the
certificate is fetched on first use and kept (a handful of URLs per region, ever). Only
successful fetches are cached: a failure raises `CertificateUnavailableError` and the next
notification tries again. `verify_sns_message` has already checked that the URL is https on
an Amazon SNS host before this loader is called; redirects are never followed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from urllib.parse import urlsplit

import httpx

from activation.feedback.errors import CertificateUnavailableError

PEM_CERTIFICATE_MARKER = b"-----BEGIN CERTIFICATE-----"


class HttpsCertificateLoader:
    """A `CertificateLoader` for production: httpx GET, size-capped, cached by URL.

    Pass `client` to share connection pools or to trust a test CA; the loader then does not
    close it. Thread-safe: webhook handlers may run in a thread pool.
    """

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        timeout_s: float = 5.0,
        max_bytes: int = 64 * 1024,
        max_cached: int = 32,
    ) -> None:
        self._client = client or httpx.Client(timeout=timeout_s, follow_redirects=False)
        self._owns_client = client is None
        self._timeout_s = timeout_s
        self._max_bytes = max_bytes
        self._max_cached = max_cached
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, url: str) -> bytes:
        with self._lock:
            cached = self._cache.get(url)
            if cached is not None:
                self._cache.move_to_end(url)
                return cached
        pem = self._fetch(url)
        with self._lock:
            self._cache[url] = pem
            while len(self._cache) > self._max_cached:
                self._cache.popitem(last=False)
        return pem

    def _fetch(self, url: str) -> bytes:
        if urlsplit(url).scheme != "https":
            raise CertificateUnavailableError("signing certificates are only fetched over https")
        try:
            with self._client.stream(
                "GET", url, timeout=self._timeout_s, follow_redirects=False
            ) as response:
                if response.status_code != httpx.codes.OK:
                    raise CertificateUnavailableError(
                        f"fetching the signing certificate answered HTTP {response.status_code}"
                    )
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > self._max_bytes:
                        raise CertificateUnavailableError(
                            f"the signing certificate is larger than {self._max_bytes} bytes"
                        )
        except httpx.HTTPError as error:
            raise CertificateUnavailableError(
                f"could not fetch the signing certificate: {type(error).__name__}"
            ) from error
        if PEM_CERTIFICATE_MARKER not in body:
            raise CertificateUnavailableError("the signing certificate URL did not return a PEM")
        return bytes(body)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> HttpsCertificateLoader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
