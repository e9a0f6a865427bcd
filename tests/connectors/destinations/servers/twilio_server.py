"""A Twilio Messages API compatible server (2010-04-01).

- `GET /2010-04-01/Accounts/{sid}.json`: the account, `status: active`.
- `POST /2010-04-01/Accounts/{sid}/Messages.json`: form-encoded To, From or
  MessagingServiceSid, Body, StatusCallback; 201 with a Message resource shaped like the real
  one (built from the twilio-python fixture), or Twilio's error JSON: 21211 for a 'To' that is
  not E.164, 21602 without a body, 21603 without a sender, 20003 for bad credentials (echoing
  the credentials it got, to exercise the secret filter), 20404 for another account.

`script(*replies)` makes the next Messages.json requests answer with those replies.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from tests.connectors.destinations.servers.http_server import HttpTestServer, Reply, Request
from tests.fixtures.shared_payloads import SHARED_FIXTURES

MESSAGE_FIXTURE = SHARED_FIXTURES / "twilio" / "twilio-python" / "messages_instance.json"
_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+?)(?P<rest>\.json|/Messages\.json)$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def twilio_error(status: int, code: int, message: str) -> Reply:
    return Reply.json(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


@dataclass(frozen=True)
class SentSms:
    sid: str
    form: dict[str, str]
    arrived_at: float


class TwilioServer:
    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[SentSms] = []
        self._template: dict[str, Any] = json.loads(MESSAGE_FIXTURE.read_text())
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.http = HttpTestServer(self._handle)

    @property
    def url(self) -> str:
        return self.http.url

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def _handle(self, request: Request) -> Reply:
        match = _PATH.match(request.path)
        if match is None:
            return twilio_error(404, 20404, "The requested resource was not found")
        credentials = _basic_credentials(request.headers.get("authorization", ""))
        if credentials != (self.account_sid, self.auth_token):
            shown = ":".join(credentials) if credentials else "none"
            return twilio_error(401, 20003, f"Authenticate (credentials received: {shown})")
        if match["sid"] != self.account_sid:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        if match["rest"] == ".json" and request.method == "GET":
            return Reply.json(
                200,
                {
                    "sid": self.account_sid,
                    "friendly_name": "Tidemark test account",
                    "status": "active",
                    "type": "Full",
                },
            )
        if request.method != "POST":
            return twilio_error(405, 20004, "Method not allowed")
        with self._lock:
            scripted = self._script.popleft() if self._script else None
        if scripted is not None and not (200 <= scripted.status < 300):
            return scripted
        form = request.form()
        to = form.get("To", "")
        if not _E164.match(to):
            return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not form.get("Body"):
            return twilio_error(400, 21602, "Message body is required.")
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return twilio_error(400, 21603, "A 'From' phone number is required.")
        sid = "SM" + secrets.token_hex(16)
        with self._lock:
            self.messages.append(SentSms(sid, form, request.arrived_at))
        resource = {
            **self._template,
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form["Body"],
            "status": "queued",
            "date_sent": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        reply = Reply.json(201, resource)
        reply.hold = scripted.hold if scripted is not None else None
        return reply


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None
    return user, password
