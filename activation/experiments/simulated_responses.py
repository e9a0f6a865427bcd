"""Simulated recipients: how people respond to an experiment's arms, for the demo and tests.

The demo sends to a local SMTP sink, where nobody opens anything, so an experiment could never
show a result. This module plays the recipients. For each message sent in an experiment's
arm it decides whether the message was delivered, opened and clicked and whether an order
followed, from the arm's true rates (one arm truly better) and a uniform number derived from
the seed and the message id, so the same seed always gives the same responses. Holdout
members, who got nothing, order at a base rate.

The responses take the path real feedback takes: SendGrid Event Webhook payloads (the JSON a
provider posts) are read by the webhook's own parser and landed by `land_feedback` as
`message_events` files; orders land as `events` rows of type `order`, like any source's.
The loader and dbt then see nothing that tells them apart from real feedback. Messages (and
holdout members) whose responses are already in `raw` are skipped, so simulating again after
no new sends lands nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from activation.experiments.config import HOLDOUT_ARM, ExperimentConfig
from activation.experiments.tables import ASSIGNMENTS
from activation.feedback import land_feedback, parse_sendgrid_events
from activation.feedback.sendgrid import CAMPAIGN_ID_ARG, MESSAGE_ID_ARG, PROFILE_ID_ARG
from activation.warehouse_tables import SCHEMA
from connectors.landing import LandingZone
from connectors.raw_schemas import EVENTS
from connectors.warehouse.base import Warehouse

BATCH_ROWS = 5_000
_MINUTE = timedelta(minutes=1)
SOURCE = "simulated_recipients"
ORDER_VALUE = 40.0
"""Mean order value; each order is spread around it deterministically (±50%)."""


@dataclass(frozen=True)
class ArmBehaviour:
    """How recipients of one arm truly respond: each rate is a probability per recipient.

    Clicks need an open and orders need a click, so an arm's click rate is
    `open_rate * click_given_open` and its conversion rate that times `order_given_click`.
    """

    open_rate: float
    click_given_open: float
    order_given_click: float
    unsubscribe_rate: float = 0.002

    def __post_init__(self) -> None:
        for name in ("open_rate", "click_given_open", "order_given_click", "unsubscribe_rate"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"ArmBehaviour.{name} must be a probability, got {value!r}")

    @property
    def click_rate(self) -> float:
        return self.open_rate * self.click_given_open


@dataclass(frozen=True)
class SimulatedAudience:
    """The true behaviour per arm (variant name), the holdout's base order rate, the seed."""

    arms: Mapping[str, ArmBehaviour]
    holdout_order_rate: float = 0.01
    seed: int = 0


@dataclass(frozen=True)
class SimulationReport:
    """What one pass landed: messages answered, feedback events, orders, holdout members."""

    messages: int = 0
    feedback_events: int = 0
    orders: int = 0
    holdout_members: int = 0


def uniform(seed: int, key: str, draw: str) -> float:
    """A number in [0, 1) fixed by (seed, key, draw): the same inputs, the same number."""
    digest = hashlib.sha256(f"{seed}/{key}/{draw}".encode()).hexdigest()
    return int(digest[:13], 16) / 16**13


def _unix(moment: datetime) -> int:
    """Whole unix seconds, as SendGrid sends them; `moment` is naive UTC."""
    return int(moment.replace(tzinfo=UTC).timestamp())


def _after(sent_at: datetime, seed: int, key: str, draw: str, *, within: timedelta) -> datetime:
    """A moment at least one second and at most `within` after `sent_at`."""
    seconds = 1 + uniform(seed, key, draw) * (within.total_seconds() - 1)
    return sent_at + timedelta(seconds=seconds)


def sendgrid_events_for(
    message: Mapping[str, Any], behaviour: ArmBehaviour, experiment_id: str, seed: int
) -> list[dict[str, Any]]:
    """The Event Webhook events SendGrid would post for one sent message, in time order."""
    message_id = str(message["message_id"])
    sent_at: datetime = message["sent_at"]
    common = {
        "email": message["address"],
        "sg_message_id": f"simulated.{message_id}",
        MESSAGE_ID_ARG: message_id,
        PROFILE_ID_ARG: message["profile_id"],
        CAMPAIGN_ID_ARG: experiment_id,
    }

    def event(name: str, at: datetime, **extra: Any) -> dict[str, Any]:
        return {
            **common,
            "event": name,
            "timestamp": _unix(at),
            "sg_event_id": f"simulated.{name}.{message_id}",
            **extra,
        }

    delivered_at = _after(sent_at, seed, message_id, "delivered", within=timedelta(seconds=30))
    events = [event("delivered", delivered_at)]
    if uniform(seed, message_id, "open") >= behaviour.open_rate:
        return events
    opened_at = _after(delivered_at, seed, message_id, "opened", within=timedelta(minutes=20))
    events.append(event("open", opened_at))
    if uniform(seed, message_id, "unsubscribe") < behaviour.unsubscribe_rate:
        unsubscribed_at = _after(opened_at, seed, message_id, "unsubscribed_at", within=_MINUTE)
        events.append(event("unsubscribe", unsubscribed_at))
        return events
    if uniform(seed, message_id, "click") < behaviour.click_given_open:
        clicked_at = _after(opened_at, seed, message_id, "clicked", within=timedelta(minutes=5))
        events.append(event("click", clicked_at, url="https://shop.example.com/new"))
    return events


def _orders_after_click(
    message: Mapping[str, Any], events: list[dict[str, Any]], behaviour: ArmBehaviour, seed: int
) -> list[dict[str, Any]]:
    clicks = [e for e in events if e["event"] == "click"]
    message_id = str(message["message_id"])
    if not clicks or uniform(seed, message_id, "order") >= behaviour.order_given_click:
        return []
    clicked_at = datetime.fromtimestamp(clicks[0]["timestamp"], UTC).replace(tzinfo=None)
    return [_order(seed, message_id, str(message["profile_id"]), clicked_at)]


def _order(seed: int, key: str, profile_id: str, after: datetime) -> dict[str, Any]:
    ordered_at = _after(after, seed, key, "ordered", within=timedelta(minutes=30))
    order_id = f"simulated_{hashlib.sha256(f'{seed}/{key}'.encode()).hexdigest()[:24]}"
    return {
        "event_id": order_id,
        "profile_id": profile_id,
        "event_type": "order",
        "occurred_at": ordered_at,
        "product_id": None,
        "order_id": order_id,
        "revenue": round(ORDER_VALUE * (0.5 + uniform(seed, key, "order_value")), 2),
        "quantity": 1,
        "source": SOURCE,
    }


def _batches(warehouse: Warehouse, sql: str, params: list[Any]) -> Iterator[list[dict[str, Any]]]:
    with warehouse.session() as session:
        for batch in session.query_batches(sql, params, batch_rows=BATCH_ROWS):
            yield batch.to_pylist()


def _unanswered_messages_sql(warehouse: Warehouse, arm_count: int) -> str:
    already = (
        "and not exists (select 1 from raw.message_events as e "
        "where e.message_id = m.message_id and e.event_type = 'delivered')"
        if warehouse.table_exists("raw", "message_events")
        else ""
    )
    arms = ", ".join("?" for _ in range(arm_count))
    return f"""
        select m.message_id, m.profile_id, m.address, m.variant, m.sent_at
        from {SCHEMA}.message_log as m
        where m.activation = ? and m.state = 'sent' and m.sent_at is not null
          and m.variant in ({arms})
          {already}
        order by m.message_id
    """


def _unanswered_holdout_sql(warehouse: Warehouse) -> str:
    already = (
        "and not exists (select 1 from raw.events as e where e.source = ? "
        "and e.profile_id = a.profile_id and e.occurred_at > a.assigned_at)"
        if warehouse.table_exists("raw", "events")
        else "and ? is not null"
    )
    return f"""
        select a.profile_id, a.assigned_at
        from {ASSIGNMENTS} as a
        where a.experiment_id = ? and a.is_holdout
          {already}
        order by a.profile_id
    """


def simulate_responses(
    warehouse: Warehouse,
    landing: LandingZone,
    *,
    activation: str,
    experiment: ExperimentConfig,
    audience: SimulatedAudience,
) -> SimulationReport:
    """Land simulated feedback and orders for the experiment's sends not yet answered."""
    unknown = sorted(set(audience.arms) - {v.name for v in experiment.variants})
    if unknown:
        raise ValueError(
            f"simulated arms {', '.join(unknown)} are not variants of experiment {experiment.id!r}"
        )
    seed = audience.seed
    messages = feedback = orders = holdout = 0
    if audience.arms and warehouse.table_exists(SCHEMA, "message_log"):
        names = sorted(audience.arms)
        sql = _unanswered_messages_sql(warehouse, len(names))
        for rows in _batches(warehouse, sql, [activation, *names]):
            payload: list[dict[str, Any]] = []
            order_rows: list[dict[str, Any]] = []
            for message in rows:
                behaviour = audience.arms[message["variant"]]
                events = sendgrid_events_for(message, behaviour, experiment.id, seed)
                payload.extend(events)
                order_rows.extend(_orders_after_click(message, events, behaviour, seed))
            batch = parse_sendgrid_events(json.dumps(payload).encode())
            if batch.rejected:
                raise RuntimeError(
                    f"the SendGrid parser refused simulated events: {batch.rejected[:3]}"
                )
            land_feedback(landing, batch.events)
            _land_orders(landing, order_rows)
            messages += len(rows)
            feedback += len(batch.events)
            orders += len(order_rows)
    if experiment.holdout_percent > 0 and warehouse.table_exists(SCHEMA, "experiment_assignments"):
        sql = _unanswered_holdout_sql(warehouse)
        for rows in _batches(warehouse, sql, [experiment.id, SOURCE]):
            order_rows = []
            for member in rows:
                key = f"{experiment.id}/{HOLDOUT_ARM}/{member['profile_id']}"
                if uniform(seed, key, "order") < audience.holdout_order_rate:
                    order_rows.append(
                        _order(seed, key, member["profile_id"], member["assigned_at"])
                    )
            _land_orders(landing, order_rows)
            holdout += len(rows)
            orders += len(order_rows)
    return SimulationReport(messages, feedback, orders, holdout)


def _land_orders(landing: LandingZone, rows: list[dict[str, Any]]) -> None:
    if rows:
        landing.write_table(EVENTS.name, pa.Table.from_pylist(rows, schema=EVENTS.schema))
