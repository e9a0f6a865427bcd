"""SendGrid v3 `POST /v3/mail/send`: many messages per request, one personalization each.

A request has one body (from, reply-to, content) and up to 1000 personalizations (to,
subject, headers, custom_args, substitutions). Personalised emails share a request too: the
lines where their bodies differ travel as per-personalization substitutions into one shared
body (`shared_body.py`), within SendGrid's substitution limits. Messages are grouped by
sender, reply-to and body shape, and split into requests that hold at most 1000
personalizations (fewer when the rate limiter's burst is smaller, so requests stay paced) and
never the same address twice (SendGrid refuses such a request). Each personalization carries
`custom_args.tidemark_message_id`, which SendGrid copies into every event about that message.

SendGrid accepts or refuses a request whole. A 400 naming invalid personalizations
(`personalizations.3.to.0.email`) fails those messages only: the request is sent again
without them. 202 means accepted; `X-Message-Id` is the provider id. Everything else is
classified by the HTTP table in `errors.py` (401/403 stop the run, 429/5xx are retriable and
honour Retry-After or X-RateLimit-Reset, and stop the batch).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field, SecretStr

from connectors.destinations.base import Destination, DestinationSettings, HttpBaseUrl
from connectors.destinations.email_parts import EmailParts, UnsendableMessageError, email_parts
from connectors.destinations.errors import (
    FATAL_MESSAGE,
    FATAL_RUN,
    SENDGRID_STATUS_OVERRIDES,
    Failure,
    classify_http_status,
)
from connectors.destinations.http_exchange import HttpAnswer, exchange, provider_client
from connectors.destinations.message import Channel, OutboundMessage, SendOutcome
from connectors.destinations.rate_limit import RateLimiter
from connectors.destinations.shared_body import BodyPieces, RequestPacking, shared_body

MAX_PERSONALIZATIONS = 1000
OPEN_REQUESTS_PER_GROUP = 4  # requests of one sender and body shape still taking members
MESSAGE_ID_ARG = "tidemark_message_id"
_PERSONALIZATION_FIELD = re.compile(r"^personalizations\.(\d+)(?:\.|$)")


class SendGridConfig(DestinationSettings):
    api_key: SecretStr
    base_url: HttpBaseUrl = Field(
        default="https://api.sendgrid.com", description="EU: https://api.eu.sendgrid.com"
    )
    from_address: str | None = Field(default=None, description="Sender when a message has none.")
    from_name: str | None = None


class SendGridDestination(Destination):
    kind: ClassVar[str] = "sendgrid"
    channel: ClassVar[Channel] = Channel.EMAIL
    config_model: ClassVar[type[DestinationSettings]] = SendGridConfig
    default_batch_size: ClassVar[int] = 5 * MAX_PERSONALIZATIONS
    default_rate_limit_per_s: ClassVar[float] = 1000.0

    def __init__(self, config: SendGridConfig, *, rate_limiter: RateLimiter | None = None) -> None:
        super().__init__(config, rate_limiter=rate_limiter)
        self.config = config
        self._base_url = config.base_url.rstrip("/")
        self._client = provider_client(
            config.timeout_s,
            headers={
                "Authorization": f"Bearer {config.api_key.get_secret_value()}",
                "User-Agent": "tidemark",
            },
        )

    @property
    def max_per_request(self) -> int:
        return max(1, min(MAX_PERSONALIZATIONS, self.rate_limiter.burst))

    def check(self) -> None:
        """The key must be accepted and allowed to send mail (`GET /v3/scopes`)."""
        answer = exchange(self._client, self._client.build_request("GET", self._url("/v3/scopes")))
        if isinstance(answer, Failure):
            raise self._config_error(f"cannot reach SendGrid at {self._base_url}: {answer.message}")
        if answer.status in (401, 403):
            raise self._config_error(
                f"SendGrid rejected the API key (HTTP {answer.status}): {_error_text(answer)}"
            )
        if not answer.ok:
            raise self._config_error(
                f"SendGrid answered HTTP {answer.status}: {_error_text(answer)}"
            )
        scopes = answer.json_object().get("scopes", [])
        if "mail.send" not in scopes:
            raise self._config_error("the API key lacks the mail.send scope")

    def close(self) -> None:
        self._client.close()

    def _send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        outcomes: dict[int, SendOutcome] = {}
        sendable: dict[int, EmailParts] = {}
        for index, message in enumerate(messages):
            try:
                sendable[index] = email_parts(
                    message,
                    default_from_address=self.config.from_address,
                    default_from_name=self.config.from_name,
                )
            except UnsendableMessageError as error:
                outcomes[index] = self._invalid(message, str(error))
        bodies = {index: BodyPieces.of(part.text, part.html) for index, part in sendable.items()}
        halted: Failure | None = None
        for packing in plan_requests(sendable, self.max_per_request, bodies):
            request = list(packing.members)
            if halted is not None:
                not_sent = self._not_attempted([messages[i] for i in request], halted)
                outcomes.update(zip(request, not_sent, strict=True))
                continue
            shape = _RequestShape(bodies, packing.variable)
            halted = self._send_request(request, messages, sendable, shape, outcomes)
        return [outcomes[index] for index in range(len(messages))]

    def _send_request(
        self,
        request: list[int],
        messages: Sequence[OutboundMessage],
        parts: dict[int, EmailParts],
        shape: _RequestShape,
        outcomes: dict[int, SendOutcome],
    ) -> Failure | None:
        """Send one planned request; record an outcome for each of its messages.

        Returns the failure that should stop the batch, if any.
        """
        pending = list(request)
        while pending:
            self.rate_limiter.acquire(len(pending))
            body = _mail_send_body(
                [(messages[i], parts[i]) for i in pending],
                [shape.bodies[i] for i in pending],
                shape.variable,
            )
            answer = exchange(
                self._client,
                self._client.build_request("POST", self._url("/v3/mail/send"), json=body),
            )
            if isinstance(answer, HttpAnswer) and answer.ok:
                provider_id = answer.headers.get("X-Message-Id")
                for index in pending:
                    outcomes[index] = SendOutcome.sent(messages[index].message_id, provider_id)
                return None
            if isinstance(answer, HttpAnswer) and answer.status == 400:
                rejected = _rejected_personalizations(answer, len(pending))
                if rejected and len(rejected) < len(pending):
                    for position, reason in rejected.items():
                        index = pending[position]
                        failure = Failure(FATAL_MESSAGE, "http_400", f"HTTP 400: {reason}")
                        outcomes[index] = self._failed(messages[index], failure)
                    pending = [i for p, i in enumerate(pending) if p not in rejected]
                    continue  # SendGrid sent nothing: send the others again without them
            failure = (
                answer
                if isinstance(answer, Failure)
                else classify_http_status(
                    answer.status,
                    _error_text(answer),
                    answer.headers,
                    now=time.time(),
                    overrides=SENDGRID_STATUS_OVERRIDES,
                )
            )
            if failure.error_class is FATAL_RUN:
                raise self._fatal_run(failure, outcomes.values())
            if failure.retry_after_s:
                self.rate_limiter.penalize(failure.retry_after_s)
            for index in pending:
                outcomes[index] = self._failed(messages[index], failure)
            return failure if failure.provider_wide else None
        return None

    def _url(self, path: str) -> str:
        return f"{self._base_url}{path}"


@dataclass(frozen=True)
class _RequestShape:
    """What a request's body is built from: its members' pieces and where they differ."""

    bodies: dict[int, BodyPieces]
    variable: set[int]


def plan_requests(
    parts: dict[int, EmailParts],
    max_per_request: int,
    bodies: dict[int, BodyPieces] | None = None,
) -> list[RequestPacking]:
    """Split messages (by index) into mail/send requests; `members` lists each one's messages.

    Messages share a request when they have the same sender and reply-to and their bodies
    can share one skeleton (`RequestPacking`); a request holds at most `max_per_request` of
    them and never the same address (case-insensitively) twice. Requests come in order of
    their first message.
    """
    if max_per_request < 1:
        raise ValueError("a request must hold at least one message")
    if bodies is None:
        bodies = {index: BodyPieces.of(part.text, part.html) for index, part in parts.items()}
    requests: list[RequestPacking] = []
    open_requests: dict[tuple[Any, ...], list[tuple[list[int], set[str], RequestPacking]]] = {}
    for index, part in parts.items():
        body = bodies[index]
        key = (part.sender, part.sender_name, part.reply_to, body.shape)
        address = part.recipient.lower()
        candidates = open_requests.setdefault(key, [])
        for members, addresses, packing in candidates:
            if (
                len(members) < max_per_request
                and address not in addresses
                and packing.admit(index, body)
            ):
                members.append(index)
                addresses.add(address)
                break
        else:
            packing = RequestPacking(index, body)
            candidates.append(([index], {address}, packing))
            requests.append(packing)
        # Compare new messages only with the few latest requests that still have room.
        open_requests[key] = [c for c in candidates if len(c[0]) < max_per_request][
            -OPEN_REQUESTS_PER_GROUP:
        ]
    return requests


def _mail_send_body(
    batch: list[tuple[OutboundMessage, EmailParts]],
    bodies: list[BodyPieces] | None = None,
    variable: set[int] | None = None,
) -> dict[str, Any]:
    """The request for messages `plan_requests` put together (one shared body)."""
    if bodies is None:
        bodies = [BodyPieces.of(part.text, part.html) for _message, part in batch]
    shared = shared_body(bodies, variable)
    first = batch[0][1]
    sender: dict[str, str] = {"email": first.sender}
    if first.sender_name:
        sender["name"] = first.sender_name
    content = []
    if shared.text is not None:
        content.append({"type": "text/plain", "value": shared.text})  # plain must come first
    if shared.html is not None:
        content.append({"type": "text/html", "value": shared.html})
    personalizations: list[dict[str, Any]] = [
        {
            "to": [{"email": part.recipient}],
            "subject": part.subject,
            "headers": part.headers,
            "custom_args": {**message.metadata, MESSAGE_ID_ARG: message.message_id},
        }
        for message, part in batch
    ]
    if shared.substitutions:
        for personalization, substitutions in zip(
            personalizations, shared.substitutions, strict=True
        ):
            personalization["substitutions"] = substitutions
    body: dict[str, Any] = {
        "personalizations": personalizations,
        "from": sender,
        "content": content,
    }
    if first.reply_to:
        body["reply_to"] = {"email": first.reply_to}
    return body


def _rejected_personalizations(answer: HttpAnswer, sent: int) -> dict[int, str]:
    """Positions of the personalizations a 400 names, with SendGrid's reason for each."""
    rejected: dict[int, str] = {}
    for error in _errors(answer):
        match = _PERSONALIZATION_FIELD.match(str(error.get("field") or ""))
        if match and int(match.group(1)) < sent:
            rejected.setdefault(int(match.group(1)), str(error.get("message", "rejected")))
    return rejected


def _errors(answer: HttpAnswer) -> list[dict[str, Any]]:
    errors = answer.json_object().get("errors", [])
    if not isinstance(errors, list):
        return []
    return [error for error in errors if isinstance(error, dict)]


def _error_text(answer: HttpAnswer) -> str:
    errors = _errors(answer)
    if not errors:
        return answer.text_excerpt()
    return "; ".join(
        f"{error.get('message', '')}" + (f" ({error['field']})" if error.get("field") else "")
        for error in errors
    )
