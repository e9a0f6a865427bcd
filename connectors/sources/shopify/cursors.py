"""Where each Shopify resource's sync left off: the ops store's `source_cursors` table.

A cursor is the newest `updated_at` among the records already *in the landing zone*. The
sync moves it only after a page has landed, so a failure midway resumes at the last landed
change; asking again from that instant (the API's filter is inclusive) repeats at most a few
records, which the staging models deduplicate. The ops store, not the warehouse, keeps it:
the sync must not wait for (or hold) DuckDB's single writer lock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.ops_store.column_types import utc_now
from connectors.ops_store.engine import write_transaction
from connectors.ops_store.source_cursors import SourceCursor


class ShopifyCursors:
    """The saved `updated_at` positions of one shop's streams."""

    def __init__(self, sessions: sessionmaker[Session], shop: str) -> None:
        self._sessions = sessions
        self._source = f"shopify:{shop}"

    def position(self, stream: str) -> datetime | None:
        """The newest landed `updated_at` of `stream` (naive UTC), or None before the first sync."""
        with self._sessions() as session:
            found = session.scalar(
                select(SourceCursor.position).where(
                    SourceCursor.source == self._source, SourceCursor.stream == stream
                )
            )
        return None if found is None else found.astimezone(UTC).replace(tzinfo=None)

    def advance(self, stream: str, position: datetime) -> None:
        """Move `stream`'s cursor forward to `position` (naive UTC); never backwards."""
        aware = position.replace(tzinfo=UTC)
        with write_transaction(self._sessions) as session:
            cursor = session.get(SourceCursor, (self._source, stream))
            if cursor is None:
                session.add(SourceCursor(source=self._source, stream=stream, position=aware))
            elif aware > cursor.position:
                cursor.position = aware
                cursor.updated_at = utc_now()
