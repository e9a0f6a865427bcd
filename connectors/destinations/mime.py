"""The MIME message SMTP sends: multipart/alternative (text, then html) with our headers.

`Message-ID` is `<message_id@tidemark>`, derived from our deterministic id, so a message sent
twice by mistake is recognisable as the same message downstream, and replies and bounces
quoting it can be matched. Bodies are quoted-printable, so the message is 7-bit clean and
needs no 8BITMIME support from the relay.

`mime_bytes` is what SMTP sends. The email package builds a message in pure Python (its
quoted-printable encoder works a character at a time: milliseconds per marketing email,
more than the SMTP transaction itself), so the common case — every header plain ASCII — is
written directly: the same headers in the same order, a non-ASCII subject as RFC 2047
encoded words, bodies encoded by `binascii.b2a_qp` (C). Anything else (a non-ASCII address,
a header line beyond RFC 5322's limit) goes through the email package. Both give the same
message once parsed, which a test checks.
"""

from __future__ import annotations

import binascii
import secrets
from datetime import UTC, datetime
from email.header import Header
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


MAX_LINE = 78  # RFC 5322's recommended line length; headers are folded at spaces to fit
_HARD_LIMIT = 998  # RFC 5322's limit: a longer header line goes through the email package


def mime_bytes(parts: EmailParts, *, now: datetime | None = None) -> bytes:
    """The message `build_mime` makes, as CRLF bytes, written directly when headers allow."""
    headers = [
        ("From", parts.from_header),
        ("To", parts.recipient),
        ("Subject", parts.subject),
        ("Date", format_datetime(now or datetime.now(UTC))),
        ("Message-ID", rfc5322_message_id(parts.message_id)),
    ]
    if parts.reply_to:
        headers.append(("Reply-To", parts.reply_to))
    headers += parts.headers.items()
    if not all(_writable(name, value) for name, value in headers):
        return build_mime(parts, now=now).as_bytes()
    lines = [_header_line(name, value) for name, value in headers]
    if parts.text is not None and parts.html is not None:
        boundary = f"==============={secrets.randbelow(10**19):019d}==".encode()
        lines += [
            b"MIME-Version: 1.0",
            b"Content-Type: multipart/alternative;",
            b' boundary="' + boundary + b'"',
            b"",
            b"--" + boundary,
            *_text_part("plain", parts.text),
            b"--" + boundary,
            *_text_part("html", parts.html),
            b"--" + boundary + b"--",
            b"",
        ]
    else:  # one part: the email package writes MIME-Version after its own headers
        single = _text_part("html", parts.html) if parts.html is not None else None
        single = single or _text_part("plain", parts.text or "")
        lines += [*single[:2], b"MIME-Version: 1.0", *single[2:]]
    return b"\r\n".join(lines)


_ENCODABLE = frozenset({"Subject"})  # free text: non-ASCII becomes RFC 2047 encoded words


def _writable(name: str, value: str) -> bool:
    """Whether a header can be written here: ASCII (or encodable), short enough to fold."""
    if not value.isascii():
        return name in _ENCODABLE
    return len(name) + 2 + len(value) <= _HARD_LIMIT


def _header_line(name: str, value: str) -> bytes:
    if value.isascii():
        return _folded(name, value)
    encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded}".encode()


def _folded(name: str, value: str) -> bytes:
    """`Name: value`, folded at spaces into lines of at most MAX_LINE where words allow."""
    line = f"{name}: {value}"
    if len(line) <= MAX_LINE:
        return line.encode()
    folded: list[str] = []
    current = f"{name}:"
    for word in value.split(" "):
        if len(current) + 1 + len(word) > MAX_LINE and current.strip() not in ("", f"{name}:"):
            folded.append(current)
            current = ""
        current += " " + word
    folded.append(current)
    return "\r\n".join(folded).encode()


def _text_part(subtype: str, body: str) -> list[bytes]:
    """A text part's header lines and quoted-printable body (its last line ended, as the email
    package does: a blank line comes before the next boundary)."""
    data = body.replace("\r\n", "\n").replace("\r", "\n").encode()
    encoded = binascii.b2a_qp(data, istext=True)
    if not encoded.endswith(b"\n"):
        encoded += b"\n"
    return [
        f'Content-Type: text/{subtype}; charset="utf-8"'.encode(),
        b"Content-Transfer-Encoding: quoted-printable",
        b"",
        encoded.replace(b"\n", b"\r\n"),
    ]
