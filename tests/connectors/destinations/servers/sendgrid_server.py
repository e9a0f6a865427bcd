"""A SendGrid v3 compatible server: `POST /v3/mail/send` and `GET /v3/scopes`.

It validates requests as SendGrid documents (1 to 1000 personalizations, every address valid
and unique across the request, a sender, a subject, content with text/plain first) and
answers 400 with SendGrid's `{"errors": [{"message", "field", "help"}]}` when they break a
rule (substitutions: at most 100 and 10,000 bytes per personalization); otherwise 202 with
`X-Message-Id`, recording each accepted personalization with its arrival time and its content
as the recipient gets it (the personalization's substitutions applied). A 401 echoes the
Authorization header it received, as a careless provider might, so tests can prove the
destination's secret filter removes it.

`script(*replies)` makes the next mail/send requests answer with those replies instead; a
held 202 (see `Reply.held`) accepts the mail first, then delays the answer.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from tests.connectors.destinations.servers.http_server import HttpTestServer, Reply, Request

_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"


@dataclass(frozen=True)
class AcceptedMail:
    """One accepted personalization: one message to one address."""

    to: str
    subject: str | None
    headers: dict[str, str]
    custom_args: dict[str, str]
    content: list[dict[str, str]]
    sender: dict[str, str]
    x_message_id: str
    request_number: int
    arrived_at: float


class SendGridServer:
    def __init__(self, api_key: str, scopes: tuple[str, ...] = ("mail.send",)) -> None:
        self.api_key = api_key
        self.scopes = list(scopes)
        self.accepted: list[AcceptedMail] = []
        self.requests: list[Request] = []  # every mail/send request, whatever its answer
        self.rejections: list[dict[str, Any]] = []  # bodies of the 400s we answered
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.http = HttpTestServer(self._handle)

    @property
    def url(self) -> str:
        return self.http.url

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def received_ids(self) -> list[str]:
        with self._lock:
            return [mail.custom_args.get("tidemark_message_id", "") for mail in self.accepted]

    def _handle(self, request: Request) -> Reply:
        authorization = request.headers.get("authorization", "")
        if authorization != f"Bearer {self.api_key}":
            return Reply.json(
                401,
                {
                    "errors": [
                        {
                            "field": None,
                            "message": "The provided authorization grant is invalid, expired, "
                            f"or revoked (received: {authorization})",
                        }
                    ]
                },
            )
        if request.method == "GET" and request.path == "/v3/scopes":
            return Reply.json(200, {"scopes": self.scopes})
        if request.method != "POST" or request.path != "/v3/mail/send":
            return Reply.json(404, {"errors": [{"field": None, "message": "not found"}]})
        with self._lock:
            self.requests.append(request)
            request_number = len(self.requests)
            scripted = self._script.popleft() if self._script else None
        if scripted is not None and not (200 <= scripted.status < 300):
            return scripted
        try:
            body = request.json()
        except ValueError:
            return self._reject([{"field": None, "message": "Bad Request"}], {})
        errors = _validation_errors(body)
        if errors:
            return self._reject(errors, body)
        x_message_id = secrets.token_urlsafe(16)
        with self._lock:
            for personalization in body["personalizations"]:
                for recipient in personalization["to"]:
                    self.accepted.append(
                        AcceptedMail(
                            to=recipient["email"],
                            subject=personalization.get("subject", body.get("subject")),
                            headers=personalization.get("headers", {}),
                            custom_args={
                                **body.get("custom_args", {}),
                                **personalization.get("custom_args", {}),
                            },
                            content=_substituted(
                                body["content"], personalization.get("substitutions", {})
                            ),
                            sender=body["from"],
                            x_message_id=x_message_id,
                            request_number=request_number,
                            arrived_at=request.arrived_at,
                        )
                    )
        reply = Reply(202, b"", {"X-Message-Id": x_message_id})
        reply.hold = scripted.hold if scripted is not None else None
        return reply

    def _reject(self, errors: list[dict[str, Any]], body: Any) -> Reply:
        with self._lock:
            self.rejections.append({"errors": errors, "request": body})
        return Reply.json(400, {"errors": errors})


def _substituted(
    content: list[dict[str, str]], substitutions: dict[str, str]
) -> list[dict[str, str]]:
    """The content one recipient receives: every substitution tag replaced by its value."""
    if not substitutions:
        return content
    received = []
    for part in content:
        value = part["value"]
        for tag, replacement in substitutions.items():
            value = value.replace(tag, replacement)
        received.append({**part, "value": value})
    return received


def _substitution_errors(index: int, personalization: dict[str, Any]) -> list[dict[str, Any]]:
    substitutions = personalization.get("substitutions", {})
    if not isinstance(substitutions, dict) or not all(
        isinstance(v, str) for v in substitutions.values()
    ):
        return [
            {
                "field": f"personalizations.{index}.substitutions",
                "message": "substitutions must be an object of strings",
            }
        ]
    size = sum(len(k.encode()) + len(v.encode()) for k, v in substitutions.items())
    if len(substitutions) > 100 or size > 10_000:
        return [
            {
                "field": f"personalizations.{index}.substitutions",
                "message": "You may not include more than 100 substitutions per personalization "
                "object, and the total collective size of your substitutions may not exceed "
                "10,000 bytes per personalization object.",
            }
        ]
    return []


def _validation_errors(body: Any) -> list[dict[str, Any]]:
    """The rules of SendGrid's mail/send validation that matter to a sender of many messages."""
    if not isinstance(body, dict):
        return [{"field": None, "message": "Bad Request"}]
    errors: list[dict[str, Any]] = []
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        return [
            {"field": "personalizations", "message": "You must have at least one personalization."}
        ]
    if len(personalizations) > 1000:
        return [
            {
                "field": "personalizations",
                "message": "The personalization block is limited to 1000 personalizations per "
                f"API request. You have provided {len(personalizations)} personalizations. "
                "Please consider splitting this into multiple requests and resending your request.",
                "help": f"{_HELP}#message.personalizations",
            }
        ]
    seen: set[str] = set()
    for i, personalization in enumerate(personalizations):
        recipients = personalization.get("to") if isinstance(personalization, dict) else None
        if not isinstance(recipients, list) or not recipients:
            errors.append(
                {
                    "field": f"personalizations.{i}.to",
                    "message": "The to array is required for all personalization objects, and "
                    "must have at least one email object with a valid email address.",
                }
            )
            continue
        for j, recipient in enumerate(recipients):
            address = str(recipient.get("email", "")) if isinstance(recipient, dict) else ""
            if not _ADDRESS.match(address):
                errors.append(
                    {
                        "field": f"personalizations.{i}.to.{j}.email",
                        "message": "Does not contain a valid address.",
                        "help": f"{_HELP}#message.personalizations.to",
                    }
                )
            elif address.lower() in seen:
                errors.append(
                    {
                        "field": "personalizations",
                        "message": "Each unique email address in the personalizations array "
                        f"should only be included once. You have included [{address}] more "
                        "than once.",
                    }
                )
            seen.add(address.lower())
        for name, value in {
            **personalization.get("custom_args", {}),
            **personalization.get("headers", {}),
        }.items():
            if not isinstance(value, str):
                errors.append(
                    {"field": f"personalizations.{i}", "message": f"{name} must be a string"}
                )
        errors.extend(_substitution_errors(i, personalization))
        if not (personalization.get("subject") or body.get("subject")):
            errors.append(
                {
                    "field": "subject",
                    "message": "The subject is required. You can get around this requirement if "
                    "you use a template with a subject defined or if every personalization has "
                    "a subject defined.",
                }
            )
    sender = body.get("from")
    if not isinstance(sender, dict) or not _ADDRESS.match(str(sender.get("email", ""))):
        errors.append(
            {"field": "from.email", "message": "The from email does not contain a valid address."}
        )
    content = body.get("content")
    if not isinstance(content, list) or not content:
        errors.append(
            {
                "field": "content",
                "message": "Unless a valid template_id is provided, the content parameter "
                "is required.",
            }
        )
    else:
        types = [part.get("type") for part in content if isinstance(part, dict)]
        if "text/plain" in types and types[0] != "text/plain":
            errors.append(
                {"field": "content", "message": "If present, text/plain content must be first."}
            )
        if any(not part.get("value") for part in content if isinstance(part, dict)):
            errors.append(
                {
                    "field": "content.0.value",
                    "message": "The content value must be a string at least one character "
                    "in length.",
                }
            )
    return errors
