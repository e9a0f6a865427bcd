"""One SMTP session: a connection to the relay and the transactions sent over it.

The transaction is driven step by step rather than through `smtplib.sendmail`, because what a
failure means depends on where it happens:

- before the end-of-data marker is written, the server cannot have accepted the message: a
  dropped connection is reconnected and the message tried once more, then it is RETRIABLE;
- after the marker, the server may have queued the message and only its reply was lost:
  the outcome is IN_DOUBT and the message is not re-sent.

Replies are classified by `errors.SMTP_REPLY_TABLE` (4xx retriable, 550/553 fatal for the
message, 535 fatal for the run). A session is used by one thread at a time.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from typing import TYPE_CHECKING

from connectors.destinations.email_parts import EmailParts
from connectors.destinations.errors import (
    FATAL_MESSAGE,
    FATAL_RUN,
    Failure,
    classify_smtp_connect_error,
    classify_smtp_connection_loss,
    classify_smtp_reply,
)
from connectors.destinations.mime import rfc5322_message_id

if TYPE_CHECKING:
    from connectors.destinations.smtp import SmtpConfig

logger = logging.getLogger(__name__)

_QUEUE_ID = re.compile(r"queued as ([A-Za-z0-9._<>@-]+)", re.IGNORECASE)
_LEADING_DOT = re.compile(rb"(?m)^\.")


class SmtpSession:
    """A connection kept across messages and re-opened when the server has dropped it."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._connection: smtplib.SMTP | None = None

    def open(self) -> None:
        """Open the connection (EHLO, STARTTLS, AUTH as configured) if it is not open."""
        self._connect()

    def close(self) -> None:
        """QUIT politely; the session may be opened again afterwards."""
        if self._connection is None:
            return
        try:
            self._connection.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            self._drop_connection()

    def deliver(self, parts: EmailParts, payload: bytes) -> str | Failure:
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
            queued = _QUEUE_ID.search(reply_text(reply))
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
    if b"\n." in payload or payload.startswith(b"."):  # rare: the search costs a fifth
        payload = _LEADING_DOT.sub(b"..", payload)
    return payload + b".\r\n"


def reply_text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply
