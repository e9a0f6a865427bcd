"""Where each source's sync left off: one saved position per source and stream.

A sync (Shopify's today) moves its cursor only after a page has landed, so a failure midway
resumes at the last landed change. The ops store, not the warehouse, keeps it: a sync must not
wait for (or hold) DuckDB's single writer lock. The table is created by the ops store's
migrations like every other, so it exists in every store whichever module imported it first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from connectors.ops_store.column_types import UTCDateTime, utc_now
from connectors.ops_store.models import Base


class SourceCursor(Base):
    """How far one source's stream has been synced (one row per source and stream)."""

    __tablename__ = "source_cursors"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
