"""The email history of the demo: a dozen past campaigns over the last 180 days and what
happened to every message (sent, delivered or bounced, opened, clicked, complaints,
unsubscribes), as a provider's feedback would report it.

The signal later features look for is planted here. Each profile has a preferred local hour
for reading mail (peaking morning and evening), and opens happen at that hour in the profile's
own time zone, give or take half an hour, so send-time recommendations have something real to
find. Engagement differs per profile (a quarter never open), hard bounces, complaints and
unsubscribes stop later campaigns to that profile, and only profiles whose email consent held
at send time and whose address is valid are ever sent to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from connectors.raw_schemas import MESSAGE_EVENTS
from connectors.sources.demo_local_time import DAY_US, HOUR_US, MINUTE_US, SECOND_US
from connectors.sources.demo_population import DemoContext, Population
from connectors.sources.demo_random import Floats, Ints, KeyedRandom, item_keys
from connectors.sources.demo_strings import IdPart, digits, fixed_ids, picked
from connectors.sources.demo_world import PREFERRED_OPEN_HOURS

PROVIDER = "demo"
SHOP_URL = "https://shop.example.com"

BOUNCE_RATE = 0.015
HARD_SHARE_OF_BOUNCES = 0.5
COMPLAINT_RATE = 0.0005
UNSUBSCRIBE_RATE = 0.002
NEVER_OPENS_SHARE = 0.25
CLICKS_PER_OPEN = (0.03, 0.23)
"""Range of the per-profile chance that an opened message gets a click."""
SEND_SPREAD_US = 30 * MINUTE_US
OPEN_NOISE_US = 30 * MINUTE_US
OPEN_DELAY_DAYS = (0.72, 0.16, 0.08, 0.04)
"""Whether the first open comes at the first preferred hour after delivery, or days later."""
MAX_OPENS = 3
REOPEN_SHARE = 0.4
"""Chance of opening again (another day), scaled by the profile's open propensity."""
NEVER_US = np.iinfo(np.int64).max

EVENT_TYPES = ("sent", "delivered", "bounce", "open", "click", "complaint", "unsubscribe")
SENT, DELIVERED, BOUNCE, OPEN, CLICK, COMPLAINT, UNSUBSCRIBE = range(len(EVENT_TYPES))
BOUNCE_TYPES = ("hard", "soft")


@dataclass(frozen=True)
class Campaign:
    """A past campaign, sent at a fixed UTC time `days_ago` days before `now`'s date."""

    number: int
    slug: str
    days_ago: int
    send_hour_utc: int
    to_everyone: bool
    """Newsletters go to every subscriber; other campaigns to a share leaning engaged."""

    @property
    def campaign_id(self) -> str:
        return f"cmp_{self.number:02d}_{self.slug}"

    def sent_at_us(self, now_us: int) -> int:
        today = (now_us // DAY_US) * DAY_US
        return today - self.days_ago * DAY_US + self.send_hour_utc * HOUR_US

    @property
    def links(self) -> tuple[str, ...]:
        tag = f"utm_source=email&utm_campaign={self.campaign_id}"
        return (
            f"{SHOP_URL}/collections/{self.slug.replace('_', '-')}?{tag}",
            f"{SHOP_URL}/products/best-sellers?{tag}",
            f"{SHOP_URL}/account/preferences?{tag}",
        )


CAMPAIGNS: tuple[Campaign, ...] = (
    Campaign(1, "winter_clearance", 176, 15, False),
    Campaign(2, "newsletter_1", 161, 14, True),
    Campaign(3, "spring_collection", 147, 9, False),
    Campaign(4, "flash_sale", 133, 16, False),
    Campaign(5, "newsletter_2", 118, 14, True),
    Campaign(6, "new_arrivals", 104, 13, False),
    Campaign(7, "loyalty_rewards", 90, 15, False),
    Campaign(8, "newsletter_3", 75, 14, True),
    Campaign(9, "summer_preview", 61, 17, False),
    Campaign(10, "weekend_deals", 46, 10, False),
    Campaign(11, "newsletter_4", 32, 14, True),
    Campaign(12, "best_sellers", 12, 15, False),
)
_LINK_WEIGHTS = (0.6, 0.3, 0.1)


def preferred_open_hours(rng: KeyedRandom, index: Ints) -> Ints:
    """Each profile's habitual local hour for reading mail (0-23).

    Internal: not a column anywhere (finding it is the send-time feature's job), exposed so
    tests can check the opens carry the signal.
    """
    return rng.choice("preferred_open_hour", item_keys(index), PREFERRED_OPEN_HOURS)


def _open_propensity(rng: KeyedRandom, index: Ints) -> Floats:
    keys = item_keys(index)
    engaged = 0.08 + 0.84 * rng.uniform("open_propensity", keys) ** 1.2
    return np.where(rng.chance("never_opens", keys, NEVER_OPENS_SHARE), 0.02, engaged)


@dataclass
class _Rows:
    """Message events collected column by column before they become a table."""

    owner: list[Ints] = field(default_factory=list)
    campaign: list[Ints] = field(default_factory=list)
    kind: list[Ints] = field(default_factory=list)
    ordinal: list[Ints] = field(default_factory=list)
    at: list[Ints] = field(default_factory=list)
    link: list[Ints] = field(default_factory=list)
    bounce: list[Ints] = field(default_factory=list)

    def add(
        self,
        owner: Ints,
        campaign: int,
        kind: int,
        at: Ints,
        *,
        ordinal: int = 0,
        link: Ints | None = None,
        bounce: Ints | None = None,
    ) -> None:
        none = np.full(owner.size, -1, dtype=np.int64)
        self.owner.append(owner)
        self.campaign.append(np.full(owner.size, campaign, dtype=np.int64))
        self.kind.append(np.full(owner.size, kind, dtype=np.int64))
        self.ordinal.append(np.full(owner.size, ordinal, dtype=np.int64))
        self.at.append(at)
        self.link.append(none if link is None else link)
        self.bounce.append(none if bounce is None else bounce)


def message_events_table(ctx: DemoContext, people: Population) -> pa.Table:
    """Every campaign message event of the chunk's profiles, profile by profile."""
    rng = ctx.rng
    n = len(people.index)
    preferred = preferred_open_hours(rng, people.index)
    open_p = _open_propensity(rng, people.index)
    profile_keys = item_keys(people.index)
    click_p = CLICKS_PER_OPEN[0] + np.diff(CLICKS_PER_OPEN)[0] * rng.uniform(
        "click_propensity", profile_keys
    )
    suppressed = np.zeros(n, dtype=np.bool_)
    rows = _Rows()

    for position, campaign in enumerate(CAMPAIGNS):
        send_us = campaign.sent_at_us(ctx.now_us)
        eligible = (
            people.deliverable
            & people.email_consent.held_at(send_us)
            & (people.created_us <= send_us)
            & ~suppressed
        )
        include_p = 1.0 if campaign.to_everyone else 0.05 + 0.5 * open_p
        all_keys = item_keys(people.index, campaign.number << 8)
        r = np.flatnonzero(eligible & rng.chance("audience", all_keys, include_p))
        k = all_keys[r]
        sent = send_us + rng.integers("send_spread", k, 0, SEND_SPREAD_US)
        rows.add(r, position, SENT, sent)

        bounced = rng.chance("bounce", k, BOUNCE_RATE)
        hard = bounced & rng.chance("hard_bounce", k, HARD_SHARE_OF_BOUNCES)
        bounce_at = sent + rng.integers("bounce_lag", k, SECOND_US, 5 * MINUTE_US)
        rows.add(
            r[bounced], position, BOUNCE, bounce_at[bounced], bounce=np.where(hard, 0, 1)[bounced]
        )
        delivered = ~bounced
        delivered_at = sent + rng.integers("delivery_lag", k, SECOND_US, 90 * SECOND_US)
        rows.add(r[delivered], position, DELIVERED, delivered_at[delivered])

        opened = delivered & rng.chance("open", k, open_p[r])
        opens = _open_times(ctx, people, r, campaign, delivered_at, preferred[r], open_p[r])
        first_open = opens[0]
        for ordinal, at in enumerate(opens):
            happened = opened & (at < ctx.now_us)
            rows.add(r[happened], position, OPEN, at[happened], ordinal=ordinal)

        clicked = opened & (first_open < ctx.now_us) & rng.chance("click", k, click_p[r])
        click_at = first_open + rng.integers("click_lag", k, 5 * SECOND_US, 10 * MINUTE_US)
        clicked &= click_at < ctx.now_us
        link = rng.choice("link", k, _LINK_WEIGHTS)
        rows.add(r[clicked], position, CLICK, click_at[clicked], link=link[clicked])

        reacted_at = np.where(
            opened,
            first_open,
            delivered_at + rng.integers("unopened_reaction", k, HOUR_US, 3 * DAY_US),
        )
        complained = delivered & rng.chance("complaint", k, COMPLAINT_RATE)
        complaint_at = reacted_at + rng.integers("complaint_lag", k, 10 * SECOND_US, 5 * MINUTE_US)
        complained &= complaint_at < ctx.now_us
        rows.add(r[complained], position, COMPLAINT, complaint_at[complained])
        unsubscribed = delivered & ~complained & rng.chance("unsubscribe", k, UNSUBSCRIBE_RATE)
        unsubscribe_at = reacted_at + rng.integers(
            "unsubscribe_lag", k, 10 * SECOND_US, 5 * MINUTE_US
        )
        unsubscribed &= unsubscribe_at < ctx.now_us
        rows.add(r[unsubscribed], position, UNSUBSCRIBE, unsubscribe_at[unsubscribed])

        suppressed[r[hard | complained | unsubscribed]] = True

    return _table(people, rows)


def _open_times(
    ctx: DemoContext,
    people: Population,
    r: Ints,
    campaign: Campaign,
    delivered_at: Ints,
    preferred: Ints,
    open_p: Floats,
) -> list[Ints]:
    """When each recipient would open, should they: up to three opens per message, each at
    the profile's preferred local hour (+- noise). The first comes at the first such hour
    after delivery (or a few days later); re-opens, likelier for engaged profiles, on later
    days. Missing re-opens are `NEVER_US`."""
    rng = ctx.rng
    zone = people.zone[r]
    k = item_keys(people.index[r], campaign.number << 8)
    local_delivery = ctx.clock.to_local(zone, delivered_at)
    habit = (local_delivery // DAY_US) * DAY_US + preferred * HOUR_US + 30 * MINUTE_US
    habit += rng.choice("open_delay", k, OPEN_DELAY_DAYS) * DAY_US
    first = habit + (rng.normal("open_noise", k) * OPEN_NOISE_US).astype(np.int64)
    late = first <= local_delivery + MINUTE_US
    habit = np.where(late, habit + DAY_US, habit)
    times = [ctx.clock.to_utc(zone, np.where(late, first + DAY_US, first))]
    reopens = np.ones(r.size, dtype=np.bool_)
    for ordinal in range(1, MAX_OPENS):
        again = item_keys(people.index[r], (campaign.number << 8) | ordinal)
        reopens &= rng.chance("reopen", again, REOPEN_SHARE * open_p)
        habit += rng.integers("reopen_gap", again, 1, 3) * DAY_US
        local = habit + (rng.normal("open_noise", again) * OPEN_NOISE_US).astype(np.int64)
        times.append(np.where(reopens, ctx.clock.to_utc(zone, local), NEVER_US))
    return times


def _table(people: Population, rows: _Rows) -> pa.Table:
    owner = np.concatenate(rows.owner)
    campaign = np.concatenate(rows.campaign)
    kind = np.concatenate(rows.kind)
    ordinal = np.concatenate(rows.ordinal)
    order = np.argsort((owner << 24) | (campaign << 12) | (kind << 4) | ordinal, kind="stable")
    owner, campaign, kind, ordinal = owner[order], campaign[order], kind[order], ordinal[order]
    at = np.concatenate(rows.at)[order]
    link = np.concatenate(rows.link)[order]
    bounce = np.concatenate(rows.bounce)[order]

    owner_array = pa.array(owner)
    campaign_array = pa.array(campaign)
    numbers = np.asarray([c.number for c in CAMPAIGNS], dtype=np.int64)[campaign]
    message_parts: list[IdPart] = [
        "msg_",
        digits(numbers, 2),
        "_",
        np.take(people.numbers, owner, axis=0),
    ]
    suffixes = [
        f"_{name}{ordinal + 1}" if name == "open" else f"_{name}"
        for name in EVENT_TYPES
        for ordinal in range(MAX_OPENS)
    ]
    message_event_ids = fixed_ids(
        message_parts, owner.size, suffixes=suffixes, suffix_codes=kind * MAX_OPENS + ordinal
    )
    links = pa.array([url for c in CAMPAIGNS for url in c.links])
    columns = {
        "message_event_id": message_event_ids,
        "message_id": fixed_ids(message_parts, owner.size),
        "profile_id": people.profile_ids.take(owner_array),
        "channel": pa.repeat("email", owner.size),
        "event_type": pa.array(EVENT_TYPES).take(pa.array(kind)),
        "occurred_at": pa.array(at, type=MESSAGE_EVENTS.schema.field("occurred_at").type),
        "provider": pa.repeat(PROVIDER, owner.size),
        "recipient": people.recipient.take(owner_array),
        "campaign_id": pa.array([c.campaign_id for c in CAMPAIGNS]).take(campaign_array),
        "bounce_type": picked(pa.array(BOUNCE_TYPES), bounce, bounce < 0),
        "url": picked(links, campaign * len(_LINK_WEIGHTS) + link, link < 0),
    }
    return pa.Table.from_pydict(columns, schema=MESSAGE_EVENTS.schema)
