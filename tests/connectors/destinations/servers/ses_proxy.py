"""A recording, scriptable front for moto's SES (sesv2) server.

moto is the SES that really accepts (or rejects) each email; this proxy sits in front of it
for what moto does not do:

- it records every SendEmail request body as SES received it, with moto's answer: moto
  keeps the email but drops the `Headers` and `EmailTags` we send, and those are where our
  message id travels;
- it answers `GetAccount` (moto does not implement it) with a configurable `MaxSendRate`;
- it can be scripted to answer the next SendEmail requests itself (throttling, server
  errors) or to hold moto's answer (the client's read timeout fires after SES accepted).

Requests are forwarded unchanged, Host header included, so moto's SigV4 checks (when IAM
authentication is enabled) see exactly what the client signed.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tests.connectors.destinations.servers.http_server import HttpTestServer, Reply, Request

SEND_EMAIL_PATH = "/v2/email/outbound-emails"
ACCOUNT_PATH = "/v2/email/account"
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


def ses_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    """An SES (rest-json) error answer, as botocore parses them."""
    return Reply.json(status, {"message": message}, {"x-amzn-ErrorType": code, **(headers or {})})


@dataclass(frozen=True)
class SendEmailRecord:
    request: dict[str, Any]
    status: int  # moto's answer
    ses_message_id: str | None

    @property
    def header(self) -> dict[str, str]:
        simple = self.request.get("Content", {}).get("Simple", {})
        return {item["Name"]: item["Value"] for item in simple.get("Headers", [])}

    @property
    def tags(self) -> dict[str, str]:
        return {item["Name"]: item["Value"] for item in self.request.get("EmailTags", [])}


class SesProxy:
    def __init__(self, upstream_url: str, *, max_send_rate: float = 1000.0) -> None:
        upstream = urlsplit(upstream_url)
        self._upstream = (upstream.hostname or "127.0.0.1", upstream.port or 80)
        self.max_send_rate = max_send_rate
        self.sent: list[SendEmailRecord] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.http = HttpTestServer(self._handle)

    @property
    def url(self) -> str:
        return self.http.url

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def accepted(self) -> list[SendEmailRecord]:
        with self._lock:
            return [record for record in self.sent if record.status == 200]

    def _handle(self, request: Request) -> Reply:
        if request.method == "GET" and request.path == ACCOUNT_PATH:
            return Reply.json(
                200,
                {
                    "SendQuota": {
                        "Max24HourSend": 50000.0,
                        "MaxSendRate": self.max_send_rate,
                        "SentLast24Hours": 0.0,
                    },
                    "SendingEnabled": True,
                    "ProductionAccessEnabled": True,
                    "EnforcementStatus": "HEALTHY",
                },
            )
        is_send = request.method == "POST" and request.path == SEND_EMAIL_PATH
        scripted = None
        if is_send:
            with self._lock:
                scripted = self._script.popleft() if self._script else None
            if scripted is not None and not (200 <= scripted.status < 300):
                return scripted
        reply = self._forward(request)
        if is_send:
            answer = json.loads(reply.body or b"{}") if reply.status == 200 else {}
            with self._lock:
                self.sent.append(
                    SendEmailRecord(request.json(), reply.status, answer.get("MessageId"))
                )
        if scripted is not None:
            reply.hold = scripted.hold
        return reply

    def _forward(self, request: Request) -> Reply:
        connection = http.client.HTTPConnection(*self._upstream, timeout=10)
        try:
            path = request.path
            if request.query:
                path += "?" + "&".join(f"{k}={v}" for k, v in request.query.items())
            headers = {k: v for k, v in request.headers.items() if k not in _HOP_BY_HOP}
            connection.request(request.method, path, body=request.body or None, headers=headers)
            response = connection.getresponse()
            body = response.read()
            answer_headers = {
                k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP
            }
            return Reply(response.status, body, answer_headers)
        finally:
            connection.close()
