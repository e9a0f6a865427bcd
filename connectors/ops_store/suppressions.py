"""Immediate suppressions: stop messaging an address now, not after the next build.

Written by one-click unsubscribes (and operators), read by the send-time gate. Addresses are
normalized then hashed (SHA-256 hex), so the same person written two ways is one row, and
the table holds no address in the clear. The warehouse can compute the same hash in SQL
(`sha256(lower(trim(email)))`) to join against it. Nothing here commits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.ops_store.column_types import utc_now
from connectors.ops_store.insert_if_absent import insert_if_absent
from connectors.ops_store.models import ImmediateSuppression, SuppressionChannel, parse_enum

_PHONE_SEPARATORS = re.compile(r"[\s().\-]")

ERASED_REASON = "erased"
"""The reason of a suppression left by an erasure request: the profile is gone, its address
stays hashed here so it is never messaged again; plans report it as the exclusion `erased`."""
_LOOKUP_CHUNK = 500  # bound parameters per query stay far below every engine's limit


def normalize_address(channel: SuppressionChannel | str, address: str) -> str:
    """The canonical form of `address` on `channel`: emails lowercased, phones without spaces."""
    channel = parse_enum(SuppressionChannel, channel, "suppression channel")
    if channel is SuppressionChannel.EMAIL:
        normalized = address.strip().lower()
        if "@" not in normalized:
            raise ValueError("email suppression needs an address containing '@'")
    else:
        normalized = _PHONE_SEPARATORS.sub("", address)
        if not normalized.lstrip("+").isdigit():
            raise ValueError("sms suppression needs a phone number made of digits")
    return normalized


def address_hash(channel: SuppressionChannel | str, address: str) -> str:
    """The SHA-256 hex digest of the normalized address: the stored key."""
    return hashlib.sha256(normalize_address(channel, address).encode()).hexdigest()


def suppress_immediately(
    session: Session,
    *,
    channel: SuppressionChannel | str,
    address: str,
    reason: str,
    now: datetime | None = None,
) -> ImmediateSuppression:
    """Suppress `address` on `channel`; suppressing it again keeps the first row and reason."""
    channel = parse_enum(SuppressionChannel, channel, "suppression channel")
    if not reason.strip():
        raise ValueError("a suppression needs a non-empty reason")
    digest = address_hash(channel, address)
    insert_if_absent(
        session,
        ImmediateSuppression,
        {
            "channel": channel,
            "address_hash": digest,
            "reason": reason,
            "created_at": now or utc_now(),
        },
        conflict_columns=["channel", "address_hash"],
    )
    return session.scalars(
        select(ImmediateSuppression)
        .where(
            ImmediateSuppression.channel == channel,
            ImmediateSuppression.address_hash == digest,
        )
        .execution_options(populate_existing=True)
    ).one()


def suppressed_addresses(
    session: Session, channel: SuppressionChannel | str, addresses: Iterable[str]
) -> set[str]:
    """Which of `addresses` (as given) are suppressed on `channel`, in a few queries."""
    channel = parse_enum(SuppressionChannel, channel, "suppression channel")
    by_hash: dict[str, list[str]] = {}
    for address in addresses:
        by_hash.setdefault(address_hash(channel, address), []).append(address)
    if not by_hash:
        return set()
    hashes = list(by_hash)
    found: set[str] = set()
    for start in range(0, len(hashes), _LOOKUP_CHUNK):
        found.update(
            session.scalars(
                select(ImmediateSuppression.address_hash).where(
                    ImmediateSuppression.channel == channel,
                    ImmediateSuppression.address_hash.in_(hashes[start : start + _LOOKUP_CHUNK]),
                )
            )
        )
    return {address for digest in found for address in by_hash[digest]}


def is_suppressed(session: Session, channel: SuppressionChannel | str, address: str) -> bool:
    """Whether `address` is suppressed on `channel`."""
    return bool(suppressed_addresses(session, channel, [address]))
