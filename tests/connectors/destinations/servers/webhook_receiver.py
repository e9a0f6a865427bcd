"""A webhook receiver that verifies Standard Webhooks signatures, written from the spec.

The verification here is independent of `connectors.destinations.standard_webhooks` (it is
what a receiver would write from standardwebhooks.com): the key is the base64 after `whsec_`,
the signed content is `{webhook-id}.{webhook-timestamp}.{body}`, `webhook-signature` holds
space-separated `v1,<base64 HMAC-SHA256>` entries, and the timestamp must be within five
minutes. A bad signature gets 401.

Every verified request is an attempt; attempts answered 2xx are deliveries. `/gone` answers
410 (an endpoint that no longer exists); `script(*replies)` makes the next requests answer
with those replies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from tests.connectors.destinations.servers.http_server import HttpTestServer, Reply, Request

TOLERANCE_S = 300


@dataclass(frozen=True)
class Attempt:
    path: str
    webhook_id: str
    timestamp: int
    host_header: str
    payload: Any
    status: int


class WebhookReceiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.attempts: list[Attempt] = []
        self.unverified: list[Request] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.http = HttpTestServer(self._handle)

    @property
    def url(self) -> str:
        return self.http.url

    @property
    def deliveries(self) -> list[Attempt]:
        with self._lock:
            return [attempt for attempt in self.attempts if 200 <= attempt.status < 300]

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def _handle(self, request: Request) -> Reply:
        if not verify(self.secret, request):
            with self._lock:
                self.unverified.append(request)
            return Reply.json(401, {"error": "invalid signature"})
        with self._lock:
            scripted = self._script.popleft() if self._script else None
        if request.path == "/gone":
            reply = Reply.json(410, {"error": "this endpoint was removed"})
        else:
            reply = scripted or Reply.json(200, {"ok": True})
        with self._lock:
            self.attempts.append(
                Attempt(
                    path=request.path,
                    webhook_id=request.headers["webhook-id"],
                    timestamp=int(request.headers["webhook-timestamp"]),
                    host_header=request.headers.get("host", ""),
                    payload=request.json(),
                    status=reply.status,
                )
            )
        return reply


def verify(secret: str, request: Request) -> bool:
    """Standard Webhooks verification, as a receiver implements it."""
    try:
        webhook_id = request.headers["webhook-id"]
        timestamp = request.headers["webhook-timestamp"]
        signatures = request.headers["webhook-signature"].split(" ")
    except KeyError:
        return False
    if abs(time.time() - int(timestamp)) > TOLERANCE_S:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{webhook_id}.{timestamp}.".encode() + request.body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(
        version == "v1" and hmac.compare_digest(value, expected)
        for version, _, value in (entry.partition(",") for entry in signatures)
    )
