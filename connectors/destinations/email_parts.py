"""What an email destination needs from a message, checked once for SMTP, SES and SendGrid.

A message that cannot become a valid email (no sender, no body, a header that would let one
field inject others) is a FATAL_MESSAGE, decided here before any provider is called. Address
*validity* is left to the provider: it knows better, and its verdict is what counts.

Every email carries our message id in `X-Tidemark-Message-Id`, so bounces and complaints
that quote the original headers can be matched to the ledger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import formataddr

from connectors.destinations.message import OutboundMessage

MESSAGE_ID_HEADER = "X-Tidemark-Message-Id"

# Headers the destination writes itself; a message may not override them.
RESERVED_HEADERS = frozenset(
    name.lower()
    for name in (
        "From",
        "To",
        "Cc",
        "Bcc",
        "Subject",
        "Date",
        "Message-ID",
        "Reply-To",
        "Sender",
        "Return-Path",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
        MESSAGE_ID_HEADER,
    )
)
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 field name: printable ASCII but ':'
_LINE_BREAKS = re.compile(r"[\r\n\x00]")


class UnsendableMessageError(ValueError):
    """The message cannot be turned into an email as it is."""


@dataclass(frozen=True)
class EmailParts:
    """A message's email fields, validated, with the destination's defaults applied."""

    message_id: str
    sender: str  # bare address, for the envelope
    sender_name: str | None
    recipient: str
    subject: str
    text: str | None
    html: str | None
    reply_to: str | None
    headers: dict[str, str] = field(default_factory=dict)  # custom headers, ours included

    @property
    def from_header(self) -> str:
        return formataddr((self.sender_name, self.sender)) if self.sender_name else self.sender


def email_parts(
    message: OutboundMessage,
    *,
    default_from_address: str | None = None,
    default_from_name: str | None = None,
) -> EmailParts:
    """Validate `message` as an email; raise `UnsendableMessageError` saying what is wrong."""
    sender = message.from_address or default_from_address
    if not sender:
        raise UnsendableMessageError("no sender: the message has no from_address and no default")
    if not message.to or not message.to.strip():
        raise UnsendableMessageError("no recipient address")
    if message.subject is None or not message.subject.strip():
        raise UnsendableMessageError("no subject")
    if not message.text and not message.html:
        raise UnsendableMessageError("no body: neither text nor html")
    single_line = {
        "recipient": message.to,
        "sender": sender,
        "sender name": message.from_name or default_from_name or "",
        "reply-to": message.reply_to or "",
        "subject": message.subject,
    }
    for what, value in single_line.items():
        if _LINE_BREAKS.search(value):
            raise UnsendableMessageError(f"the {what} contains a line break")
    headers: dict[str, str] = {}
    for name, value in message.headers.items():
        if not _HEADER_NAME.match(name):
            raise UnsendableMessageError(f"invalid header name {name!r}")
        if name.lower() in RESERVED_HEADERS:
            raise UnsendableMessageError(f"header {name!r} is set by the destination itself")
        if _LINE_BREAKS.search(value):
            raise UnsendableMessageError(f"header {name!r} contains a line break")
        headers[name] = value
    headers[MESSAGE_ID_HEADER] = message.message_id
    return EmailParts(
        message_id=message.message_id,
        sender=sender.strip(),
        sender_name=message.from_name or default_from_name,
        recipient=message.to.strip(),
        subject=message.subject,
        text=message.text,
        html=message.html,
        reply_to=message.reply_to,
        headers=headers,
    )
