"""An SMTP sink on aiosmtpd: records every message, and can be told to misbehave.

- `rcpt_replies[address] = "550 ..."`: refuse that recipient with that reply, always;
- `mail_replies.append("421 ...")`: answer the next MAIL FROM with that reply;
- `drop_after_data = n`: for the next n messages, keep the message, then close the
  connection instead of answering (the sender cannot know it was accepted);
- `drop_connections()`: close every open connection now (an idle timeout on the server side);
- optional AUTH (LOGIN/PLAIN) and STARTTLS.

`connections` counts the sessions opened, so tests can see connection reuse.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import secrets
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.connectors.destinations.servers.ports import free_port

# aiosmtpd warns on every connection when AUTH is offered without TLS, which is what these
# tests want; modules using the sink add this filter to their `pytestmark`.
AUTH_WITHOUT_TLS_WARNING = "ignore:Requiring AUTH while not requiring TLS:UserWarning"


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    queue_id: str
    dropped: bool  # the connection was closed instead of answering
    received_at: float = 0.0  # time.monotonic() when its data arrived, to measure rates
    peer: str = ""  # the client's address and port: which connection carried it

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class SmtpSink:
    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.username = username
        self.password = password
        self.received: list[ReceivedMail] = []
        self.rcpt_replies: dict[str, str] = {}
        self.mail_replies: deque[str] = deque()
        self.drop_after_data = 0
        self._sessions: list[SMTP] = []
        self._lock = threading.Lock()
        options: dict[str, Any] = {}
        if username is not None:
            options.update(
                authenticator=self._authenticate,
                auth_required=True,
                auth_require_tls=tls_context is not None,
            )
        if tls_context is not None:
            options.update(tls_context=tls_context, require_starttls=True)
        self.host = "127.0.0.1"
        self.port = free_port()
        self._controller = _RecordingController(
            self, self, hostname=self.host, port=self.port, **options
        )

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._sessions)

    def received_ids(self) -> list[str]:
        return [str(mail.message["X-Tidemark-Message-Id"]) for mail in self.received]

    def start(self) -> SmtpSink:
        self._controller.start()
        with self._lock:
            self._sessions.clear()  # the controller's own start-up probe is not a client
        return self

    def stop(self) -> None:
        self._controller.stop()

    def drop_connections(self) -> None:
        """Close every open session from the server side, and return once they are closed."""

        async def close_all() -> None:
            for session in list(self._sessions):
                if session.transport is not None and not session.transport.is_closing():
                    session.transport.close()
            await asyncio.sleep(0)  # let the loop run the close callbacks: sockets shut

        asyncio.run_coroutine_threadsafe(close_all(), self._controller.loop).result(timeout=5)

    # -- aiosmtpd handler hooks --------------------------------------------------------

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        with self._lock:
            scripted = self.mail_replies.popleft() if self.mail_replies else None
        if scripted is not None:
            return scripted
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        queue_id = secrets.token_hex(6).upper()
        with self._lock:
            drop = self.drop_after_data > 0
            if drop:
                self.drop_after_data -= 1
            self.received.append(
                ReceivedMail(
                    mail_from=str(envelope.mail_from),
                    rcpt_tos=list(envelope.rcpt_tos),
                    data=bytes(envelope.original_content or b""),
                    queue_id=queue_id,
                    dropped=drop,
                    received_at=time.monotonic(),
                    peer=str(session.peer),
                )
            )
        if drop and server.transport is not None:
            server.transport.close()  # the message is kept; the reply never leaves
        return f"250 2.0.0 Ok: queued as {queue_id}"

    def _authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        valid = (
            isinstance(auth_data, LoginPassword)
            and self.username is not None
            and self.password is not None
            and auth_data.login == self.username.encode()
            and auth_data.password == self.password.encode()
        )
        return AuthResult(success=valid, handled=False)


class _RecordingController(Controller):
    """A Controller that remembers each session, to count and to drop connections."""

    def __init__(self, sink: SmtpSink, handler: Any, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._sink = sink

    def factory(self) -> SMTP:
        session: SMTP = super().factory()  # type: ignore[no-untyped-call]
        with self._sink._lock:
            self._sink._sessions.append(session)
        return session
