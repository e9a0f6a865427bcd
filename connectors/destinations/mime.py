"""The MIME message SMTP sends: multipart/alternative (text, then html) with our headers.

`Message-ID` is `<message_id@tidemark>`, derived from our deterministic id, so a message sent
twice by mistake is recognisable as the same message downstream, and replies and bounces
quoting it can be matched. Bodies are quoted-printable, so the message is 7-bit clean and
needs no 8BITMIME support from the relay.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from connectors.destinations.email_parts import EmailParts

MESSAGE_ID_DOMAIN = "tidemark"


def rfc5322_message_id(message_id: str) -> str:
    return f"<{message_id}@{MESSAGE_ID_DOMAIN}>"


def build_mime(parts: EmailParts, *, now: datetime | None = None) -> EmailMessage:
    """The complete message, ready for `as_bytes()` (CRLF line endings)."""
    mime = EmailMessage(policy=SMTP)
    mime["From"] = parts.from_header
    mime["To"] = parts.recipient
    mime["Subject"] = parts.subject
    mime["Date"] = format_datetime(now or datetime.now(UTC))
    mime["Message-ID"] = rfc5322_message_id(parts.message_id)
    if parts.reply_to:
        mime["Reply-To"] = parts.reply_to
    for name, value in parts.headers.items():
        mime[name] = value
    if parts.text is not None and parts.html is not None:
        mime.set_content(parts.text, subtype="plain", cte="quoted-printable")
        mime.add_alternative(parts.html, subtype="html", cte="quoted-printable")
    elif parts.html is not None:
        mime.set_content(parts.html, subtype="html", cte="quoted-printable")
    else:
        mime.set_content(parts.text or "", subtype="plain", cte="quoted-printable")
    return mime
