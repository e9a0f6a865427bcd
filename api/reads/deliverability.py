"""Deliverability: delivery, bounce and complaint rates by day and by mailbox domain.

Read from the `analytics.deliverability_daily` mart (one row per day x domain); rates are
recomputed from summed counts, never averaged, so a small domain cannot skew a day.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from api.reads.freshness import WarehouseRead
from connectors.warehouse.base import Warehouse, WarehouseSession

if TYPE_CHECKING:
    from api.state import AppState

MART = "analytics.deliverability_daily"
GMAIL_COMPLAINT_TARGET = 0.001
"""Gmail's bulk-sender guideline: keep the spam rate under 0.1%…"""
GMAIL_COMPLAINT_CEILING = 0.003
"""…and never reach 0.3%."""
DEFAULT_DAYS = 30
TOP_DOMAINS = 20


class DeliverabilityCounts(BaseModel):
    sent: int
    delivered: int
    bounces: int
    hard_bounces: int
    complaints: int
    delivery_rate: float | None
    bounce_rate: float | None
    complaint_rate: float | None


class DeliverabilityDay(DeliverabilityCounts):
    day: date


class DeliverabilityDomain(DeliverabilityCounts):
    mailbox_domain: str


class Deliverability(WarehouseRead):
    days: int
    totals: DeliverabilityCounts | None
    health: Literal["good", "warning", "bad", "no_data"]
    by_day: list[DeliverabilityDay]
    by_domain: list[DeliverabilityDomain]
    complaint_target: float = GMAIL_COMPLAINT_TARGET
    complaint_ceiling: float = GMAIL_COMPLAINT_CEILING
    note: str | None = None


# The mart's columns are qualified (`m.sent`): ClickHouse resolves a bare `sent` to the
# select's own alias of that name, `sum(sent)`, and refuses an aggregate inside another.
_SUMS = """
    coalesce(sum(m.sent), 0) as sent,
    coalesce(sum(m.delivered), 0) as delivered,
    coalesce(sum(m.hard_bounces) + sum(m.soft_bounces), 0) as bounces,
    coalesce(sum(m.hard_bounces), 0) as hard_bounces,
    coalesce(sum(m.complaints), 0) as complaints,
    sum(m.delivered) / nullif(sum(m.sent), 0) as delivery_rate,
    (sum(m.hard_bounces) + sum(m.soft_bounces)) / nullif(sum(m.sent), 0) as bounce_rate,
    sum(m.complaints) / nullif(sum(m.delivered), 0) as complaint_rate
"""
_WINDOW = f"from {MART} as m where m.event_date > (select max(event_date) from {MART}) - $days"


def health_of(counts: DeliverabilityCounts | None) -> Literal["good", "warning", "bad", "no_data"]:
    """Good under Gmail's 0.1% complaint target, bad at its 0.3% ceiling, warning between."""
    if counts is None or not counts.sent or counts.complaint_rate is None:
        return "no_data"
    if counts.complaint_rate >= GMAIL_COMPLAINT_CEILING:
        return "bad"
    if counts.complaint_rate >= GMAIL_COMPLAINT_TARGET:
        return "warning"
    return "good"


def deliverability_totals(session: WarehouseSession, days: int) -> DeliverabilityCounts | None:
    """The window's totals (None before the mart is built); shared with the overview."""
    if not session.table_exists(*MART.split(".")):
        return None
    rows = session.query_arrow(f"select {_SUMS} {_WINDOW}", {"days": days}).to_pylist()
    return DeliverabilityCounts(**rows[0])


def _read(warehouse: Warehouse, now: datetime, days: int) -> Deliverability:
    with warehouse.session() as session:
        totals = deliverability_totals(session, days)
        if totals is None:
            return Deliverability(
                as_of=now,
                days=days,
                totals=None,
                health="no_data",
                by_day=[],
                by_domain=[],
                note=f"{MART} has not been built yet",
            )
        params = {"days": days, "top": TOP_DOMAINS}
        by_day = session.query_arrow(
            f"select m.event_date as day, {_SUMS} {_WINDOW} group by m.event_date order by day",
            params,
        ).to_pylist()
        by_domain = session.query_arrow(
            f"select m.mailbox_domain, {_SUMS} {_WINDOW} group by m.mailbox_domain "
            "order by sent desc, mailbox_domain limit $top",
            params,
        ).to_pylist()
    return Deliverability(
        as_of=now,
        days=days,
        totals=totals,
        health=health_of(totals),
        by_day=[DeliverabilityDay(**row) for row in by_day],
        by_domain=[DeliverabilityDomain(**row) for row in by_domain],
    )


def read_deliverability(state: AppState, days: int = DEFAULT_DAYS) -> Deliverability:
    """The last `days` days that have data: totals, per day, and the busiest domains."""
    return state.reads.read(
        f"deliverability:{days}", lambda warehouse, now: _read(warehouse, now, days)
    )
