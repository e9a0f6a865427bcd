"""The directly written message is the email package's message: same headers, same bodies."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.destinations.email_parts import email_parts
from connectors.destinations.mime import build_mime, mime_bytes
from tests.connectors.destinations.harnesses import email_message

NOW = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def headers(message: EmailMessage) -> list[tuple[str, str]]:
    """Every header as a reader sees it, the multipart boundary (random) left out."""
    return [
        (name, message.get_content_type() if name == "Content-Type" else str(value))
        for name, value in message.items()
    ]


def bodies(message: EmailMessage) -> dict[str, str | None]:
    found = {}
    for kind in ("plain", "html"):
        part = message.get_body((kind,))
        found[kind] = part.get_content() if part is not None else None
    return found


def assert_same_message(to: str = "reader@example.org", **fields: object) -> bytes:
    parts = email_parts(email_message(7, to, **fields))
    reference = parsed(build_mime(parts, now=NOW).as_bytes())
    written = mime_bytes(parts, now=NOW)
    direct = parsed(written)
    assert headers(direct) == headers(reference)
    assert bodies(direct) == bodies(reference)
    assert all(len(line) <= 998 for line in written.split(b"\r\n"))
    assert b"\n" not in written.replace(b"\r\n", b"")  # CRLF line ends only
    return written


body_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
    ),
    max_size=400,
)


#: Subjects as the renderer makes them: one line, whitespace collapsed.
subject_text = (
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=150)
    .map(lambda t: " ".join(t.split()))
    .filter(bool)
)


@settings(max_examples=150, deadline=None)
@given(text=body_text, html=body_text, subject=subject_text)
def test_any_text_html_and_subject_decode_to_what_the_email_package_would_send(
    text: str, html: str, subject: str
) -> None:
    assert_same_message(text=text or "x", html=html or "<p>x</p>", subject=subject)


def test_single_part_messages_and_long_lines() -> None:
    assert_same_message(text=None, html="<p>" + "long line " * 300 + "</p>")
    assert_same_message(html=None, text="a paragraph with = signs, ü and trailing spaces  \n.dot")


def test_long_headers_are_folded_at_spaces() -> None:
    written = assert_same_message(
        subject="A subject long enough to need folding " * 3,
        headers={"List-Unsubscribe": f"<https://t.example.com/u/{'t' * 120}>, <mailto:u@x.org>"},
    )
    assert all(len(line) <= 78 for line in written.split(b"\r\n\r\n")[0].split(b"\r\n")[:4])


def test_a_non_ascii_subject_is_written_as_encoded_words() -> None:
    written = assert_same_message(subject="Chloé, your cart is waiting " * 4)
    assert b"Subject: =?utf-8?q?Chlo=C3=A9" in written


def test_non_ascii_senders_and_addresses_go_through_the_email_package() -> None:
    written = assert_same_message(subject="Ünïcode picks", from_name="Boutique Été")
    assert b"=?utf-8?" in written
    assert_same_message(subject="Picks", to="chloé@example.org")
