"""Amazon SES through the sesv2 API: one `SendEmail` call per message.

Our message id travels twice: as the `X-Tidemark-Message-Id` header (SES event publishing
includes the original headers) and as the `tidemark_message_id` email tag (present in every
SES event, headers included or not), so feedback always finds its ledger row.

botocore's own retries are switched off: after a lost answer it would send the same email
again. Retries are the engine's decision, from the classified outcome (errors.SES_ERROR_CODES).
`check()` verifies the credentials, reads the account's `MaxSendRate` (when the credentials
may read it) and lowers the rate limit to it, and confirms the default sender is verified.

Credentials come from the configuration when given there, otherwise from boto3's standard
chain (environment, shared config, instance or task role).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import Any, ClassVar, Self

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field, SecretStr, model_validator

from connectors.destinations.base import Destination, DestinationSettings, HttpBaseUrl
from connectors.destinations.email_parts import (
    EmailParts,
    UnsendableMessageError,
    email_parts,
)
from connectors.destinations.errors import (
    Failure,
    classify_botocore_error,
    classify_ses_client_error,
)
from connectors.destinations.message import Channel, OutboundMessage, SendOutcome
from connectors.destinations.rate_limit import RateLimiter

logger = logging.getLogger(__name__)

MESSAGE_ID_TAG = "tidemark_message_id"
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")  # SES tags allow letters, digits, '_' and '-'
_TAG_MAX = 256
# GetAccount answers that mean "no quota to read here", not "bad credentials": an endpoint
# without the operation, or credentials allowed to send but not to read the account.
_QUOTA_UNAVAILABLE = frozenset(
    {"404", "UnknownOperationException", "AccessDenied", "AccessDeniedException"}
)


class SesConfig(DestinationSettings):
    region: str = "us-east-1"
    endpoint_url: HttpBaseUrl | None = Field(
        default=None, description="Another endpoint (VPC, tests)."
    )
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    session_token: SecretStr | None = None
    configuration_set_name: str | None = None
    from_address: str | None = Field(default=None, description="Sender when a message has none.")
    from_name: str | None = None

    @model_validator(mode="after")
    def _keys_come_in_pairs(self) -> Self:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("access_key_id and secret_access_key must be given together")
        return self


class SesDestination(Destination):
    kind: ClassVar[str] = "ses"
    channel: ClassVar[Channel] = Channel.EMAIL
    config_model: ClassVar[type[DestinationSettings]] = SesConfig
    default_batch_size: ClassVar[int] = 50
    default_rate_limit_per_s: ClassVar[float] = 1.0  # the SES sandbox rate, until check()

    def __init__(self, config: SesConfig, *, rate_limiter: RateLimiter | None = None) -> None:
        super().__init__(config, rate_limiter=rate_limiter)
        self.config = config
        session = boto3.session.Session(
            aws_access_key_id=config.access_key_id,
            aws_secret_access_key=_secret(config.secret_access_key),
            aws_session_token=_secret(config.session_token),
            region_name=config.region,
        )
        # Typed as Any: the sesv2 stubs are not a dependency.
        self.client: Any = session.client(
            "sesv2",
            endpoint_url=config.endpoint_url,
            config=Config(
                retries={"total_max_attempts": 1, "mode": "standard"},
                connect_timeout=min(config.timeout_s, 10.0),
                read_timeout=config.timeout_s,
            ),
        )

    def check(self) -> None:
        self._adopt_send_quota()
        try:
            if self.config.from_address:
                self._require_verified_sender(self.config.from_address)
            else:
                self.client.list_email_identities(PageSize=1)
        except ClientError as error:
            failure = classify_ses_client_error(error, now=time.time())
            raise self._config_error(f"SES refused the check: {failure.message}") from None
        except BotoCoreError as error:
            raise self._config_error(f"cannot reach SES: {error}") from None

    def _send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        return self._send_one_by_one(messages, self._prepare, self._send_one)

    def _prepare(self, message: OutboundMessage) -> dict[str, Any] | SendOutcome:
        try:
            return self._request(
                email_parts(
                    message,
                    default_from_address=self.config.from_address,
                    default_from_name=self.config.from_name,
                ),
                message.metadata,
            )
        except UnsendableMessageError as error:
            return self._invalid(message, str(error))

    def close(self) -> None:
        self.client.close()

    def _send_one(self, request: dict[str, Any]) -> str | Failure:
        try:
            response = self.client.send_email(**request)
        except ClientError as error:
            return classify_ses_client_error(error, now=time.time())
        except BotoCoreError as error:
            return classify_botocore_error(error)
        return str(response.get("MessageId", ""))

    def _request(self, parts: EmailParts, metadata: dict[str, str]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if parts.text is not None:
            body["Text"] = {"Data": parts.text, "Charset": "UTF-8"}
        if parts.html is not None:
            body["Html"] = {"Data": parts.html, "Charset": "UTF-8"}
        tags = [{"Name": MESSAGE_ID_TAG, "Value": _tag_value(parts.message_id)}]
        tags += [
            {"Name": _tag_value(name), "Value": _tag_value(value)}
            for name, value in sorted(metadata.items())
            if name != MESSAGE_ID_TAG
        ]
        request: dict[str, Any] = {
            "FromEmailAddress": parts.from_header,
            "Destination": {"ToAddresses": [parts.recipient]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": parts.subject, "Charset": "UTF-8"},
                    "Body": body,
                    "Headers": [{"Name": n, "Value": v} for n, v in parts.headers.items()],
                }
            },
            "EmailTags": tags,
        }
        if parts.reply_to:
            request["ReplyToAddresses"] = [parts.reply_to]
        if self.config.configuration_set_name:
            request["ConfigurationSetName"] = self.config.configuration_set_name
        return request

    def _adopt_send_quota(self) -> None:
        """Lower the rate limit to the account's MaxSendRate, when SES tells us what it is."""
        try:
            account = self.client.get_account()
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _QUOTA_UNAVAILABLE:
                logger.info("ses: the account's send quota is not readable (%s)", code)
                return
            failure = classify_ses_client_error(error, now=time.time())
            raise self._config_error(f"SES refused the check: {failure.message}") from None
        except BotoCoreError as error:
            raise self._config_error(f"cannot reach SES: {error}") from None
        if account.get("SendingEnabled") is False:
            raise self._config_error("sending is paused for this SES account")
        max_rate = account.get("SendQuota", {}).get("MaxSendRate")
        if max_rate:
            configured = self.config.rate_limit_per_s
            rate = min(float(max_rate), configured) if configured else float(max_rate)
            self.rate_limiter.set_rate(rate, self.config.rate_burst)
            logger.info("ses: sending at %.3g messages per second", rate)

    def _require_verified_sender(self, address: str) -> None:
        """The address, or its domain, must be a verified SES identity."""
        domain = address.rpartition("@")[2]
        for identity in (address, domain):
            try:
                found = self.client.get_email_identity(EmailIdentity=identity)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "NotFoundException":
                    continue
                raise
            verified = found.get("VerifiedForSendingStatus")
            if verified or found.get("VerificationStatus") == "SUCCESS":
                return
        raise self._config_error(
            f"sender {address!r} is not a verified identity in SES region {self.config.region}"
        )


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _tag_value(value: str) -> str:
    return _TAG_UNSAFE.sub("_", value)[:_TAG_MAX] or "_"
