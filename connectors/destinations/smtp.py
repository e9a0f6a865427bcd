"""SMTP: any relay (Postfix, a provider's SMTP endpoint, a local sink), one message at a time.

One connection is kept across batches and re-opened when the server has dropped it. The
transaction is driven step by step rather than through `smtplib.sendmail`, because what a
failure means depends on where it happens:

- before the end-of-data marker is written, the server cannot have accepted the message: a
  dropped connection is reconnected and the message tried once more, then it is RETRIABLE;
- after the marker, the server may have queued the message and only its reply was lost:
  the outcome is IN_DOUBT and the message is not re-sent.

Replies are classified by `errors.SMTP_REPLY_TABLE` (4xx retriable, 550/553 fatal for the
message, 535 fatal for the run).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr

from connectors.destinations.base import Destination, DestinationSettings
from connectors.destinations.email_parts import (
    EmailParts,
    UnsendableMessageError,
    email_parts,
)
from connectors.destinations.errors import (
    FATAL_MESSAGE,
    FATAL_RUN,
    Failure,
    classify_smtp_connect_error,
    classify_smtp_connection_loss,
    classify_smtp_reply,
)
from connectors.destinations.message import Channel, OutboundMessage, SendOutcome
from connectors.destinations.mime import mime_bytes, rfc5322_message_id
from connectors.destinations.rate_limit import RateLimiter

logger = logging.getLogger(__name__)

_QUEUE_ID = re.compile(r"queued as ([A-Za-z0-9._<>@-]+)", re.IGNORECASE)
_LEADING_DOT = re.compile(rb"(?m)^\.")


class SmtpConfig(DestinationSettings):
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = Field(default=True, description="Upgrade the connection with STARTTLS.")
    ca_file: Path | None = Field(
        default=None, description="Trust this CA bundle for STARTTLS (private relays)."
    )
    username: str | None = None
    password: SecretStr | None = None
    from_address: str | None = Field(default=None, description="Sender when a message has none.")
    from_name: str | None = None
    local_hostname: str | None = Field(default=None, description="Name sent in EHLO.")


class SmtpDestination(Destination):
    kind: ClassVar[str] = "smtp"
    channel: ClassVar[Channel] = Channel.EMAIL
    config_model: ClassVar[type[DestinationSettings]] = SmtpConfig
    default_batch_size: ClassVar[int] = 100
    default_rate_limit_per_s: ClassVar[float] = 10.0

    def __init__(self, config: SmtpConfig, *, rate_limiter: RateLimiter | None = None) -> None:
        super().__init__(config, rate_limiter=rate_limiter)
        self.config = config
        self._connection: smtplib.SMTP | None = None

    def check(self) -> None:
        """Open a session (EHLO, STARTTLS, AUTH as configured) and keep it for sending."""
        self._drop_connection()
        where = f"{self.config.host}:{self.config.port}"
        try:
            self._connect()
        except smtplib.SMTPAuthenticationError as error:
            raise self._config_error(
                f"the SMTP server at {where} rejected the credentials of user "
                f"{self.config.username!r}: {error.smtp_code} {_reply_text(error.smtp_error)}"
            ) from None
        except smtplib.SMTPNotSupportedError as error:
            raise self._config_error(f"the SMTP server at {where} does not offer {error}") from None
        except ssl.SSLError as error:
            raise self._config_error(f"TLS with {where} failed: {error}") from None
        except (OSError, smtplib.SMTPException) as error:
            raise self._config_error(f"cannot open an SMTP session with {where}: {error}") from None

    def close(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            self._drop_connection()

    def _send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        outcomes: list[SendOutcome] = []
        for position, message in enumerate(messages):
            try:
                parts = email_parts(
                    message,
                    default_from_address=self.config.from_address,
                    default_from_name=self.config.from_name,
                )
                payload = mime_bytes(parts)
            except (UnsendableMessageError, ValueError) as error:
                outcomes.append(self._invalid(message, str(error)))
                continue
            self.rate_limiter.acquire()
            result = self._deliver(parts, payload)
            if isinstance(result, str):
                outcomes.append(SendOutcome.sent(message.message_id, result))
                continue
            if result.error_class is FATAL_RUN:
                raise self._fatal_run(result, outcomes)
            outcomes.append(self._failed(message, result))
            if result.provider_wide:
                outcomes.extend(self._not_attempted(messages[position + 1 :], result))
                break
        return outcomes

    # -- one message ----------------------------------------------------------------------

    def _deliver(self, parts: EmailParts, payload: bytes) -> str | Failure:
        """Run one SMTP transaction; the provider's id for the message, or why it failed."""
        for attempt in (1, 2):
            try:
                connection = self._connect()
            except smtplib.SMTPAuthenticationError as error:
                return classify_smtp_reply(error.smtp_code, error.smtp_error)
            except smtplib.SMTPResponseException as error:
                self._drop_connection()
                return classify_smtp_reply(error.smtp_code, error.smtp_error)
            except smtplib.SMTPNotSupportedError as error:
                self._drop_connection()
                return Failure(FATAL_RUN, "smtp_unsupported", f"the server does not offer {error}")
            except (OSError, smtplib.SMTPException) as error:
                self._drop_connection()
                return classify_smtp_connect_error(error)
            options = _smtputf8_options(parts, connection)
            if options is None:
                return Failure(
                    FATAL_MESSAGE,
                    "smtputf8_unsupported",
                    "the address is not ASCII and the server does not support SMTPUTF8",
                )
            try:
                refusal = self._envelope(connection, parts, options)
                if refusal is not None:
                    return refusal
                code, reply = connection.docmd("DATA")
                if code != 354:
                    return self._refused(connection, code, reply)
                connection.send(_dot_stuffed(payload))
            except (smtplib.SMTPServerDisconnected, OSError) as error:
                # Nothing was accepted: the end-of-data marker never went out whole.
                self._drop_connection()
                if attempt == 1:
                    logger.info("smtp connection lost before DATA completed; reconnecting")
                    continue
                return classify_smtp_connection_loss(error, message_transmitted=False)
            try:
                code, reply = connection.getreply()
            except (smtplib.SMTPServerDisconnected, OSError) as error:
                self._drop_connection()
                return classify_smtp_connection_loss(error, message_transmitted=True)
            if code != 250:
                if code == 421:
                    self._drop_connection()
                return classify_smtp_reply(code, reply)
            queued = _QUEUE_ID.search(_reply_text(reply))
            return queued.group(1) if queued else rfc5322_message_id(parts.message_id)
        raise AssertionError("unreachable: the second attempt always returns")

    def _envelope(
        self, connection: smtplib.SMTP, parts: EmailParts, options: list[str]
    ) -> Failure | None:
        code, reply = connection.mail(parts.sender, options)
        if code != 250:
            return self._refused(connection, code, reply)
        code, reply = connection.rcpt(parts.recipient)
        if code not in (250, 251):
            return self._refused(connection, code, reply)
        return None

    # -- the connection -------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        config = self.config
        connection = smtplib.SMTP(
            config.host,
            config.port,
            local_hostname=config.local_hostname,
            timeout=config.timeout_s,
        )
        try:
            connection.ehlo()
            if config.starttls:
                context = ssl.create_default_context(
                    cafile=str(config.ca_file) if config.ca_file else None
                )
                connection.starttls(context=context)
                connection.ehlo()
            if config.username:
                password = config.password.get_secret_value() if config.password else ""
                connection.login(config.username, password)
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def _refused(self, connection: smtplib.SMTP, code: int, reply: bytes) -> Failure:
        """Classify a refusal and leave the connection ready for the next message.

        421 means the server is closing the channel, so the connection is dropped; otherwise
        RSET ends the refused transaction.
        """
        if code == 421:
            self._drop_connection()
        else:
            try:
                connection.rset()
            except (smtplib.SMTPException, OSError):
                self._drop_connection()
        return classify_smtp_reply(code, reply)

    def _drop_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _smtputf8_options(parts: EmailParts, connection: smtplib.SMTP) -> list[str] | None:
    if parts.sender.isascii() and parts.recipient.isascii():
        return []
    return ["SMTPUTF8"] if connection.has_extn("smtputf8") else None


def _dot_stuffed(payload: bytes) -> bytes:
    """The DATA section: lines starting with '.' doubled, then the end-of-data marker."""
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    return _LEADING_DOT.sub(b"..", payload) + b".\r\n"


def _reply_text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply
