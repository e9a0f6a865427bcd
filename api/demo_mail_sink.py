"""The demo's mail server: an SMTP sink on loopback that keeps every message in a Maildir.

`make demo` sends its demo activation here instead of to real people (the demo data uses
real-looking addresses at real mailbox providers), and you can open what was "sent" with
any mail client that reads a Maildir, or with Python's `mailbox` module.
"""

from __future__ import annotations

import mailbox
import socket
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _MaildirHandler:
    def __init__(self, folder: Path) -> None:
        self.maildir = mailbox.Maildir(folder, create=True)
        self.lock = threading.Lock()
        self.count = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self.lock:
            self.maildir.add(content)
            self.count += 1
        return "250 OK: kept in the demo mailbox"


class DemoMailSink:
    """Start with `start()`, stop with `stop()`; `destination_config` points SMTP at it."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.handler = _MaildirHandler(folder)
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def received(self) -> int:
        return self.handler.count

    def mailbox_size(self) -> int:
        return len(self.handler.maildir)

    def destination_config(self) -> dict[str, Any]:
        return {
            "kind": "smtp",
            "config": {
                "host": "127.0.0.1",
                "port": self.port,
                "starttls": False,
                "rate_limit_per_s": 2000,
            },
        }

    def start(self) -> DemoMailSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
