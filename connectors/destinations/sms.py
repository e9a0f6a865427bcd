"""SMS through the Twilio Messages API (or any provider speaking its shape).

`POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, form-encoded `To`, `From` or
`MessagingServiceSid`, `Body` and optionally `StatusCallback`; HTTP basic auth with the
account sid and auth token; the answer's `sid` is the provider id.

Twilio has no custom arguments, so our message id travels in the status callback URL
(`...?tidemark_message_id=<id>`): every delivery report for the message comes back to it.
Errors are Twilio's JSON (`code`, `message`, `more_info`) classified by
`errors.TWILIO_ERROR_CODES` (21211 invalid 'To' → fatal for the message, 20003 → fatal for
the run, 20429/429 → retriable and the batch stops).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from pydantic import Field, SecretStr, model_validator

from connectors.destinations.base import Destination, DestinationSettings, HttpBaseUrl
from connectors.destinations.errors import (
    Failure,
    classify_twilio_error,
)
from connectors.destinations.http_exchange import HttpAnswer, exchange, provider_client
from connectors.destinations.message import Channel, OutboundMessage, SendOutcome
from connectors.destinations.rate_limit import RateLimiter

MESSAGE_ID_PARAMETER = "tidemark_message_id"
API_VERSION = "2010-04-01"


class SmsConfig(DestinationSettings):
    account_sid: str = Field(min_length=1)
    auth_token: SecretStr
    from_number: str | None = Field(default=None, description="E.164 sender number.")
    messaging_service_sid: str | None = Field(default=None, description="Instead of from_number.")
    status_callback_url: str | None = Field(
        default=None, description="Where delivery reports go; our message id is added to it."
    )
    base_url: HttpBaseUrl = "https://api.twilio.com"

    @model_validator(mode="after")
    def _has_a_sender(self) -> Self:
        if not self.from_number and not self.messaging_service_sid:
            raise ValueError("set from_number or messaging_service_sid")
        return self


class SmsDestination(Destination):
    kind: ClassVar[str] = "sms"
    channel: ClassVar[Channel] = Channel.SMS
    config_model: ClassVar[type[DestinationSettings]] = SmsConfig
    default_batch_size: ClassVar[int] = 50
    default_rate_limit_per_s: ClassVar[float] = 10.0

    def __init__(self, config: SmsConfig, *, rate_limiter: RateLimiter | None = None) -> None:
        super().__init__(config, rate_limiter=rate_limiter)
        self.config = config
        self._account_url = (
            f"{config.base_url.rstrip('/')}/{API_VERSION}/Accounts/{config.account_sid}"
        )
        self._client = provider_client(
            config.timeout_s,
            auth=httpx.BasicAuth(config.account_sid, config.auth_token.get_secret_value()),
            headers={"User-Agent": "tidemark"},
        )

    def check(self) -> None:
        """The account must exist, accept the token and be active."""
        request = self._client.build_request("GET", f"{self._account_url}.json")
        answer = exchange(self._client, request)
        if isinstance(answer, Failure):
            raise self._config_error(f"cannot reach the SMS provider: {answer.message}")
        if answer.status in (401, 403):
            raise self._config_error(
                f"the SMS provider rejected the account credentials: {_error_text(answer)}"
            )
        if not answer.ok:
            raise self._config_error(
                f"the SMS provider answered HTTP {answer.status}: {_error_text(answer)}"
            )
        status = answer.json_object().get("status")
        if status not in (None, "active"):
            raise self._config_error(f"the account is {status}, not active")

    def close(self) -> None:
        self._client.close()

    def _send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        return self._send_one_by_one(messages, self._prepare, self._send_one)

    def _prepare(self, message: OutboundMessage) -> OutboundMessage | SendOutcome:
        return message if message.text else self._invalid(message, "no text to send")

    def _send_one(self, message: OutboundMessage) -> str | Failure:
        form = {"To": message.to, "Body": message.text or ""}
        if self.config.messaging_service_sid:
            form["MessagingServiceSid"] = self.config.messaging_service_sid
        if self.config.from_number:
            form["From"] = self.config.from_number
        if self.config.status_callback_url:
            form["StatusCallback"] = _with_message_id(
                self.config.status_callback_url, message.message_id
            )
        request = self._client.build_request(
            "POST", f"{self._account_url}/Messages.json", data=form
        )
        answer = exchange(self._client, request)
        if isinstance(answer, Failure):
            return answer
        if answer.ok:
            return str(answer.json_object().get("sid") or "")
        error = answer.json_object()
        code = error.get("code")
        return classify_twilio_error(
            answer.status,
            int(code) if isinstance(code, int | str) and str(code).isdigit() else None,
            _error_text(answer),
            answer.headers,
            now=time.time(),
        )


def _with_message_id(url: str, message_id: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), (MESSAGE_ID_PARAMETER, message_id)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _error_text(answer: HttpAnswer) -> str:
    error = answer.json_object()
    if "message" in error:
        more = f" ({error['more_info']})" if error.get("more_info") else ""
        return f"{error['message']}{more}"
    return answer.text_excerpt()
