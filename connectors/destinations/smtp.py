"""SMTP: any relay (Postfix, a provider's SMTP endpoint, a local sink).

Each message is its own SMTP transaction (`smtp_session.SmtpSession`, which also says what a
failure at each step means). A relay without PIPELINING answers every command before the
next may be sent, so one connection spends most of its time waiting for replies; with
`connections` above 1 a batch's messages are spread over that many sessions, each driven by
its own thread, so one session's wait is another's work. Outcomes come back in the batch's
order whatever the session; a run-fatal failure on one session stops them all, and a
provider-wide one (throttling, the relay going away) leaves every session's remaining
messages unattempted.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr

from connectors.destinations.base import Destination, DestinationSettings, SendHalt
from connectors.destinations.email_parts import EmailParts, UnsendableMessageError, email_parts
from connectors.destinations.errors import FATAL_RUN, Failure
from connectors.destinations.message import Channel, OutboundMessage, SendOutcome
from connectors.destinations.mime import mime_bytes
from connectors.destinations.rate_limit import RateLimiter
from connectors.destinations.smtp_session import SmtpSession, reply_text


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
    connections: int = Field(
        default=1,
        ge=1,
        le=16,
        description=(
            "SMTP sessions used at once; a batch's messages are spread over them. Ask the "
            "relay's operator how many it allows per client."
        ),
    )


class SmtpDestination(Destination):
    kind: ClassVar[str] = "smtp"
    channel: ClassVar[Channel] = Channel.EMAIL
    config_model: ClassVar[type[DestinationSettings]] = SmtpConfig
    default_batch_size: ClassVar[int] = 100
    default_rate_limit_per_s: ClassVar[float] = 10.0

    def __init__(self, config: SmtpConfig, *, rate_limiter: RateLimiter | None = None) -> None:
        super().__init__(config, rate_limiter=rate_limiter)
        self.config = config
        self._sessions = [SmtpSession(config) for _ in range(config.connections)]
        self._threads: ThreadPoolExecutor | None = None

    def check(self) -> None:
        """Open every session (EHLO, STARTTLS, AUTH as configured) and keep them for sending:
        a relay that refuses the configured number of connections is found out here."""
        self._close_sessions()
        where = f"{self.config.host}:{self.config.port}"
        try:
            for session in self._sessions:
                session.open()
        except smtplib.SMTPAuthenticationError as error:
            raise self._config_error(
                f"the SMTP server at {where} rejected the credentials of user "
                f"{self.config.username!r}: {error.smtp_code} {reply_text(error.smtp_error)}"
            ) from None
        except smtplib.SMTPNotSupportedError as error:
            raise self._config_error(f"the SMTP server at {where} does not offer {error}") from None
        except ssl.SSLError as error:
            raise self._config_error(f"TLS with {where} failed: {error}") from None
        except (OSError, smtplib.SMTPException) as error:
            raise self._config_error(f"cannot open an SMTP session with {where}: {error}") from None

    def close(self) -> None:
        self._close_sessions()
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None

    def _close_sessions(self) -> None:
        for session in self._sessions:
            session.close()

    def _send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        halt = SendHalt()
        sessions = self._sessions[: len(messages)]
        if len(sessions) == 1:
            decided = self._send_share(sessions[0], messages, halt)
        else:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(
                    max_workers=len(self._sessions), thread_name_prefix="smtp-session"
                )
            count = len(sessions)
            shares = [
                self._threads.submit(self._send_share, session, messages[index::count], halt)
                for index, session in enumerate(sessions)
            ]
            decided = [outcome for share in shares for outcome in share.result()]
        if halt.fatal is not None:
            raise self._fatal_run(halt.fatal, decided)
        by_id = {outcome.message_id: outcome for outcome in decided}
        return [by_id[message.message_id] for message in messages]

    def _send_share(
        self, session: SmtpSession, messages: Sequence[OutboundMessage], halt: SendHalt
    ) -> list[SendOutcome]:
        """Send `messages` over one session until done or until any session halts the batch;
        the outcomes decided (messages left when a run-fatal failure halted it have none)."""

        def prepare(message: OutboundMessage) -> tuple[EmailParts, bytes] | SendOutcome:
            try:
                parts = email_parts(
                    message,
                    default_from_address=self.config.from_address,
                    default_from_name=self.config.from_name,
                )
                return parts, mime_bytes(parts)
            except (UnsendableMessageError, ValueError) as error:
                return self._invalid(message, str(error))

        try:
            return self._send_one_by_one(
                messages, prepare, lambda request: session.deliver(*request), halt
            )
        except BaseException:
            # Stop the other sessions too: what none of them decides stays `sending`, and the
            # run's recovery parks it in doubt rather than sending it again.
            halt.halt(Failure(FATAL_RUN, "smtp_internal_error", "sending stopped by an error"))
            raise
