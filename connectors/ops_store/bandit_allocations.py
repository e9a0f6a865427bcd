"""Bandit allocation decisions: for each wave of a bandit experiment, each arm's share and why.

A decision is taken once per wave and kept: a run that resumes after a crash finds its
wave's decision here and plans with it again instead of drawing a new one, and analysts read
every decision (mirrored to `tidemark.bandit_allocations`). Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Float, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from connectors.ops_store.column_types import UTCDateTime
from connectors.ops_store.models import Base


class BanditAllocation(Base):
    """One arm's share of one wave: its Beta posterior, the chance it is best, the share."""

    __tablename__ = "bandit_allocations"

    experiment_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    wave: Mapped[int] = mapped_column(Integer, primary_key=True)
    arm: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    alpha: Mapped[float] = mapped_column(Float)
    beta: Mapped[float] = mapped_column(Float)
    probability_best: Mapped[float] = mapped_column(Float)
    share: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(BigInteger)
    draws: Mapped[int] = mapped_column(Integer)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class ArmAllocation:
    """A decision about one arm, as the bandit computed it."""

    wave: int
    arm: str
    alpha: float
    beta: float
    probability_best: float
    share: float
    seed: int
    draws: int


def allocations_of_run(session: Session, experiment_id: str, run_id: str) -> list[ArmAllocation]:
    """The decision a run already took (a resumed run plans with it again), else empty."""
    rows = session.scalars(
        select(BanditAllocation)
        .where(BanditAllocation.experiment_id == experiment_id)
        .where(BanditAllocation.run_id == run_id)
        .order_by(BanditAllocation.arm)
    ).all()
    return [_decision(r) for r in rows]


def waves_decided(session: Session, experiment_id: str) -> int:
    """How many waves of the experiment have a decision."""
    count = session.scalar(
        select(func.count(func.distinct(BanditAllocation.wave))).where(
            BanditAllocation.experiment_id == experiment_id
        )
    )
    return int(count or 0)


def record_allocations(
    session: Session,
    experiment_id: str,
    run_id: str,
    decisions: Sequence[ArmAllocation],
    now: datetime,
) -> None:
    for d in decisions:
        session.add(
            BanditAllocation(
                experiment_id=experiment_id,
                wave=d.wave,
                arm=d.arm,
                run_id=run_id,
                alpha=d.alpha,
                beta=d.beta,
                probability_best=d.probability_best,
                share=d.share,
                seed=d.seed,
                draws=d.draws,
                decided_at=now,
            )
        )


def all_allocations(session: Session, experiment_id: str) -> list[BanditAllocation]:
    return list(
        session.scalars(
            select(BanditAllocation)
            .where(BanditAllocation.experiment_id == experiment_id)
            .order_by(BanditAllocation.wave, BanditAllocation.arm)
        ).all()
    )


def _decision(row: BanditAllocation) -> ArmAllocation:
    return ArmAllocation(
        row.wave, row.arm, row.alpha, row.beta, row.probability_best, row.share, row.seed, row.draws
    )
