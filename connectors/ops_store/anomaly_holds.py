"""Which flagged data points held which run, and which of them an admin has approved.

A run held because the monitoring models flag its data records one row per flagged point
(`anomaly`: what was flagged, e.g. a segment's size at one build, a rate on one day). When
an admin approves the run, its rows are marked approved, and from then on the activation's
later runs over the same points are not held for them again; a newly flagged point still
holds. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Index, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from connectors.ops_store.column_types import UTCDateTime
from connectors.ops_store.models import Base


class AnomalyHold(Base):
    """One flagged data point that held one run, and who approved it (None: not yet)."""

    __tablename__ = "anomaly_holds"
    __table_args__ = (Index("ix_anomaly_holds_activation_anomaly", "activation", "anomaly"),)

    run_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    anomaly: Mapped[str] = mapped_column(String(300), primary_key=True)
    activation: Mapped[str] = mapped_column(String(63))
    description: Mapped[str] = mapped_column(Text)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def record_holds(
    session: Session,
    *,
    run_id: str,
    activation: str,
    anomalies: Iterable[tuple[str, str]],
    now: datetime,
) -> None:
    """Record the (anomaly, description) points that held `run_id`."""
    for anomaly, description in anomalies:
        session.merge(
            AnomalyHold(
                run_id=run_id,
                anomaly=anomaly,
                activation=activation,
                description=description,
                held_at=now,
            )
        )
    session.flush()


def approve_holds(session: Session, run_id: str, *, actor: str, now: datetime) -> list[str]:
    """Mark every point that held `run_id` approved by `actor`; the points, sorted."""
    session.execute(
        update(AnomalyHold)
        .where(AnomalyHold.run_id == run_id, AnomalyHold.approved_at.is_(None))
        .values(approved_by=actor, approved_at=now)
    )
    return list(
        session.scalars(
            select(AnomalyHold.anomaly)
            .where(AnomalyHold.run_id == run_id)
            .order_by(AnomalyHold.anomaly)
        ).all()
    )


def approved_anomalies(session: Session, activation: str) -> set[str]:
    """The flagged points an admin has approved for the activation, over any of its runs."""
    return set(
        session.scalars(
            select(AnomalyHold.anomaly)
            .where(AnomalyHold.activation == activation, AnomalyHold.approved_at.is_not(None))
            .distinct()
        ).all()
    )
