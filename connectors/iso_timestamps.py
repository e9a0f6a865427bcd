"""ISO 8601 text from outside as the warehouse's timestamps: UTC, no zone attached.

Sources send times with their own offsets (Shopify the shop's, a CSV whatever its exporter
used) or none; every `*_at` column in the warehouse is naive UTC. A time without an offset is
taken to be UTC already, which is what APIs and exports that omit it mean.
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_utc(text: str) -> datetime:
    """`text` as a naive UTC datetime; `ValueError` if it is not ISO 8601."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
