"""Cheap checks that a recipient's address fits its channel before a message is built.

The plan already filtered recipients without a channel; this guards what the message itself
needs: an address that cannot smuggle a header (no CR/LF or other control characters, no
angle brackets or commas that would add recipients), an E.164 phone number, an http(s)
URL. It runs per message, so it is a few regular expressions, not a full RFC 5322 parser;
the provider remains the judge of deliverability.
"""

from __future__ import annotations

import re

from activation.render.errors import RecipientAddressError
from connectors.destinations.message import Channel

_EMAIL = re.compile(
    r"[^\s@<>(),;:\"\[\]\\\x00-\x1f\x7f]{1,64}@[^\s@<>(),;:\"\[\]\\\x00-\x1f\x7f]+\.[^\s@<>(),;:\"\[\]\\\x00-\x1f\x7f.]+"
)
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)
_MAX_EMAIL_CHARS = 254


def check_address(channel: Channel, address: str) -> str:
    """`address` if it can be used on `channel`; else RecipientAddressError saying why."""
    if not isinstance(address, str) or not address:
        raise RecipientAddressError(f"the recipient has no {channel.value} address")
    if channel is Channel.EMAIL:
        if len(address) > _MAX_EMAIL_CHARS or not _EMAIL.fullmatch(address):
            raise RecipientAddressError("the recipient's email address is not valid")
    elif channel is Channel.SMS:
        if not _E164.fullmatch(address):
            raise RecipientAddressError(
                "the recipient's phone number is not in E.164 format (+ and 7 to 15 digits)"
            )
    elif not _URL.fullmatch(address):
        raise RecipientAddressError("the webhook address is not an http(s) URL")
    return address
