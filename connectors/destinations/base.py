"""The interface every destination implements, and the behaviour they all share.

A destination moves rendered messages to one provider and says, for each message, what
happened. The engine relies on three promises, which `Destination.send_batch` enforces for
every implementation:

- exactly one `SendOutcome` per message, in the order given, and no exception for a problem
  that concerns one message (an invalid address, a throttled request, a lost reply);
- `FatalRunError` only when nothing more can be sent (bad credentials); it carries the outcomes
  already decided, and every message without one was certainly not sent;
- an outcome is `IN_DOUBT` whenever the provider may have accepted a message without our
  knowing: the engine never re-sends those automatically.

Implementations declare their kind, channel, batch size and rate limit, implement `check`
and `_send_batch`, and classify provider answers only through `errors.py`. Every text that
leaves a destination (outcome messages, exceptions, logs) passes through its `SecretFilter`.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Annotated, ClassVar, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from connectors.destinations.errors import Failure
from connectors.destinations.message import (
    Channel,
    ErrorClass,
    OutboundMessage,
    SendOutcome,
)
from connectors.destinations.rate_limit import RateLimiter, TokenBucket
from connectors.destinations.secrets import SecretFilter

logger = logging.getLogger(__name__)

_Request = TypeVar("_Request")

NOT_ATTEMPTED = "not_attempted"


class SendHalt:
    """Why the senders of one batch (threads, one per connection) should stop, once any of
    them has found out: a run-fatal failure, or a provider-wide one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.fatal: Failure | None = None
        self.provider_wide: Failure | None = None

    def halt(self, failure: Failure) -> None:
        with self._lock:
            if failure.error_class is ErrorClass.FATAL_RUN:
                self.fatal = self.fatal or failure
            else:
                self.provider_wide = self.provider_wide or failure


class DestinationError(Exception):
    """Base of the errors a destination raises; their text never contains a secret."""


class DestinationConfigError(DestinationError):
    """The configuration or the credentials cannot work; fix them before sending."""


class FatalRunError(DestinationError):
    """Nothing more can be sent in this run (e.g. the provider rejects the credentials).

    `outcomes` holds what was decided before the stop, in no particular order; every other
    message of the batch was not sent and can be sent again once the cause is fixed.
    """

    def __init__(
        self, message: str, *, code: str | None = None, outcomes: Iterable[SendOutcome] = ()
    ) -> None:
        super().__init__(message)
        self.code = code
        self.outcomes: tuple[SendOutcome, ...] = tuple(outcomes)


def _http_base_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http:// or https:// URL")
    return value.rstrip("/")


HttpBaseUrl = Annotated[str, AfterValidator(_http_base_url)]
"""A provider's base URL (configurable for regions, proxies and test servers)."""


class DestinationSettings(BaseModel):
    """Settings every destination has; each kind extends it with its own (secrets as SecretStr)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_limit_per_s: float | None = Field(
        default=None, gt=0, description="Messages per second; the kind's default when unset."
    )
    rate_burst: int | None = Field(
        default=None, ge=1, description="Messages that may go at once; one second's worth if unset."
    )
    batch_size: int | None = Field(
        default=None, ge=1, description="Most messages per send_batch; the kind's default if unset."
    )
    timeout_s: float = Field(
        default=30.0, gt=0, description="Seconds to wait for the provider's answer to one request."
    )

    def secret_values(self) -> list[str]:
        """Every secret in this configuration, for the secret filter."""
        values = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                values.append(value.get_secret_value())
        return values


class Destination(ABC):
    """One provider connection: check the configuration, send batches, close."""

    kind: ClassVar[str]
    channel: ClassVar[Channel]
    config_model: ClassVar[type[DestinationSettings]]
    default_batch_size: ClassVar[int]
    default_rate_limit_per_s: ClassVar[float]

    def __init__(
        self, config: DestinationSettings, *, rate_limiter: RateLimiter | None = None
    ) -> None:
        self.batch_size = config.batch_size or self.default_batch_size
        self.rate_limiter = rate_limiter or TokenBucket(
            config.rate_limit_per_s or self.default_rate_limit_per_s, burst=config.rate_burst
        )
        self.secret_filter = SecretFilter(config.secret_values())

    @property
    def rate_limit_per_s(self) -> float:
        """The most messages per second this destination sends (shared with its bucket)."""
        return self.rate_limiter.rate_per_s

    @abstractmethod
    def check(self) -> None:
        """Verify the configuration and credentials; raise `DestinationConfigError` if wrong."""

    @abstractmethod
    def _send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        """Send messages already known to be on this destination's channel.

        Must return one outcome per message, in order; raise `FatalRunError` (built with
        `_fatal_run`) only when nothing more can be sent.
        """

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        """Send up to `batch_size` messages; one outcome per message, in the given order."""
        if len(messages) > self.batch_size:
            raise ValueError(
                f"{self.kind} destination sends at most {self.batch_size} messages per batch, "
                f"got {len(messages)}"
            )
        outcomes: list[SendOutcome | None] = [None] * len(messages)
        sendable: list[int] = []
        for index, message in enumerate(messages):
            if message.channel is self.channel:
                sendable.append(index)
            else:
                outcomes[index] = self._failed(
                    message,
                    Failure(
                        ErrorClass.FATAL_MESSAGE,
                        "wrong_channel",
                        f"a {self.kind} destination sends {self.channel} messages, "
                        f"not {message.channel}",
                    ),
                )
        if sendable:
            sent = self._send_batch([messages[index] for index in sendable])
            if [outcome.message_id for outcome in sent] != [
                messages[index].message_id for index in sendable
            ]:
                raise RuntimeError(
                    f"{self.kind} destination broke its contract: outcomes do not match "
                    "the messages one to one, in order"
                )
            for index, outcome in zip(sendable, sent, strict=True):
                outcomes[index] = outcome
        return [outcome for outcome in outcomes if outcome is not None]

    def close(self) -> None:  # noqa: B027 - most destinations hold nothing to release
        """Release connections; the destination may be used again afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- shared by implementations ------------------------------------------------------

    def _redact(self, text: str) -> str:
        return self.secret_filter.redact(text)

    def _failed(self, message: OutboundMessage, failure: Failure) -> SendOutcome:
        """The outcome for a failed message, its text passed through the secret filter."""
        text = self._redact(failure.message)
        logger.info(
            "%s message %s failed (%s, %s): %s",
            self.kind,
            message.message_id,
            failure.error_class,
            failure.code,
            text,
        )
        return SendOutcome.failed(
            message.message_id,
            failure.error_class,
            code=failure.code,
            message=text,
            retry_after_s=failure.retry_after_s,
        )

    def _send_one_by_one(
        self,
        messages: Sequence[OutboundMessage],
        prepare: Callable[[OutboundMessage], _Request | SendOutcome],
        send: Callable[[_Request], str | Failure],
        halt: SendHalt | None = None,
    ) -> list[SendOutcome]:
        """Send messages one request each, for providers without a batch endpoint.

        `prepare` builds a message's request, or decides its outcome without the provider (an
        unsendable message: it costs no rate-limit token); `send` returns the provider's id or
        a classified `Failure`. A run-fatal failure stops everything; a provider-wide one
        leaves the rest not attempted. With `halt`, shared by senders of the same batch, each
        also stops where another one did, and tells the others where it stops.
        """
        outcomes: list[SendOutcome] = []
        for position, message in enumerate(messages):
            if halt is not None and (halt.fatal or halt.provider_wide):
                if halt.fatal is None and halt.provider_wide is not None:
                    outcomes.extend(self._not_attempted(messages[position:], halt.provider_wide))
                break
            request = prepare(message)
            if isinstance(request, SendOutcome):
                outcomes.append(request)
                continue
            self.rate_limiter.acquire()
            result = send(request)
            if isinstance(result, str):
                outcomes.append(SendOutcome.sent(message.message_id, result))
                continue
            if result.error_class is ErrorClass.FATAL_RUN:
                if halt is not None:
                    halt.halt(result)  # the batch's sender raises, with every share's outcomes
                    break
                raise self._fatal_run(result, outcomes)
            if result.retry_after_s:
                self.rate_limiter.penalize(result.retry_after_s)
            outcomes.append(self._failed(message, result))
            if result.provider_wide:
                if halt is not None:
                    halt.halt(result)
                outcomes.extend(self._not_attempted(messages[position + 1 :], result))
                break
        return outcomes

    def _invalid(self, message: OutboundMessage, reason: str) -> SendOutcome:
        """The outcome for a message that cannot be sent as it is (checked before sending)."""
        return self._failed(message, Failure(ErrorClass.FATAL_MESSAGE, "invalid", reason))

    def _not_attempted(
        self, messages: Iterable[OutboundMessage], cause: Failure
    ) -> list[SendOutcome]:
        """Outcomes for messages left unsent because the provider as a whole is failing.

        They were never handed to the provider, so they are simply retriable, after the
        provider's own delay when it gave one.
        """
        reason = Failure(
            ErrorClass.RETRIABLE,
            NOT_ATTEMPTED,
            f"not attempted: an earlier request in this batch failed ({cause.code})",
            retry_after_s=cause.retry_after_s,
        )
        return [self._failed(message, reason) for message in messages]

    def _fatal_run(self, failure: Failure, outcomes: Iterable[SendOutcome]) -> FatalRunError:
        text = self._redact(failure.message)
        logger.warning("%s destination stopped the run (%s): %s", self.kind, failure.code, text)
        return FatalRunError(
            f"{self.kind} destination cannot send: {text}", code=failure.code, outcomes=outcomes
        )

    def _config_error(self, text: str) -> DestinationConfigError:
        return DestinationConfigError(self._redact(f"{self.kind} destination: {text}"))
