"""What the demo profiles do on the shop: sessions that follow the funnel
page_view -> product_view -> add_to_cart -> order.

Activity is heavy-tailed (most people browse a little, a few a lot), lasts from signup until the
profile lapses (many stop coming back, which gives the "lapsed" segment its members), and
happens at local daytime. A few per cent of the still-active profiles left a cart in the last
24 hours, so the cart-abandonment segment is never empty, and a small group of big spenders
orders more and in larger quantities, so the high-value tier stands out.

Everything is computed per session and per event as flat numpy arrays: profiles expand to
sessions and sessions to events with `np.repeat`, never with a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from connectors.raw_schemas import EVENTS
from connectors.sources.demo_local_time import DAY_US, HOUR_US, MINUTE_US, SECOND_US
from connectors.sources.demo_population import SOURCE, DemoContext, Population
from connectors.sources.demo_random import Bools, Floats, Ints, KeyedRandom, Keys, item_keys
from connectors.sources.demo_strings import digits, fixed_ids, picked
from connectors.sources.demo_world import SIGNUP_AND_BROWSING_HOURS

EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "order")
PAGE_VIEW, PRODUCT_VIEW, ADD_TO_CART, ORDER = range(4)

CATALOGUE_SIZE = 500
POPULARITY_SKEW = 2.5
NEVER_ACTIVE_SHARE = 0.10
SESSIONS_PER_MONTH_MEDIAN = 0.7
SESSIONS_PER_MONTH_SPREAD = 1.1
"""Sigma of the lognormal activity level: the heavy tail of very active shoppers."""
LIFETIME_MEAN_DAYS = 300
MAX_SESSIONS = 4000
BIG_SPENDER_SHARE = 0.02
RECENT_CART_SHARE = 0.04
"""Share of still-active profiles with a cart left in the last 24 hours."""

P_MORE_PAGES = 0.45
P_VIEWS_PRODUCTS = 0.62
P_MORE_PRODUCTS = 0.5
P_ADDS_TO_CART = {False: 0.22, True: 0.40}  # by big spender
P_ORDERS = {False: 0.38, True: 0.60}
P_MORE_ITEMS = 0.35
STEP_GAP_MEAN_US = 45 * SECOND_US
CHECKOUT_GAP_MEAN_US = 150 * SECOND_US

_STEP_BITS = 6
"""Bits for the step within a session in event keys: at most 7 + 7 + 1 + 1 steps."""
_SESSION_DIGITS = 4
assert MAX_SESSIONS < 10**_SESSION_DIGITS, "session numbers must fit their event id field"


def catalogue_ids() -> pa.StringArray:
    """The demo shop's product ids: prod_0001 ... prod_0500."""
    numbers = digits(np.arange(1, CATALOGUE_SIZE + 1, dtype=np.int64), 4)
    return fixed_ids(["prod_", numbers], CATALOGUE_SIZE)


def catalogue_prices(rng: KeyedRandom) -> Floats:
    """Lognormal unit prices (median ~35), fixed per product for a seed."""
    keys = item_keys(np.arange(CATALOGUE_SIZE, dtype=np.int64))
    prices = np.exp(np.log(35.0) + 0.8 * rng.normal("price", keys))
    return np.asarray(np.round(prices, 2).clip(2.5, None), dtype=np.float64)


def popular_products(u: Floats) -> Ints:
    """Catalogue positions with power-law popularity: a few best sellers, a long tail.

    P(position < k) = (k / size) ** (1 / POPULARITY_SKEW): no lookup table, one power per draw.
    """
    return np.minimum(CATALOGUE_SIZE * u**POPULARITY_SKEW, CATALOGUE_SIZE - 1).astype(np.int64)


@dataclass(frozen=True)
class _Sessions:
    """One row per session: whose it is, how far down the funnel it goes, when it starts."""

    owner: Ints
    """Position of the session's profile in the chunk."""
    seq: Ints
    """The session's number within its profile's history (0, 1, ...)."""
    keys: Keys
    pages: Ints
    products: Ints
    carts: Ints
    orders: Ints
    quantity: Ints
    start_us: Ints

    @property
    def length(self) -> Ints:
        return self.pages + self.products + self.carts + self.orders


def _plan_sessions(ctx: DemoContext, people: Population) -> _Sessions:
    rng = ctx.rng
    profile_keys = item_keys(people.index)
    big_spender = rng.chance("big_spender", profile_keys, BIG_SPENDER_SHARE)
    active_until = _active_until(ctx, people)
    recent_cart = rng.chance("recent_cart", profile_keys, RECENT_CART_SHARE)
    recent_cart &= active_until >= ctx.now_us
    sessions = _session_counts(ctx, people, active_until) + recent_cart

    owner = np.repeat(np.arange(people.index.size, dtype=np.int64), sessions)
    first_session = np.cumsum(sessions) - sessions
    seq = np.arange(owner.size, dtype=np.int64) - np.repeat(first_session, sessions)
    keys = item_keys(people.index[owner], seq << _STEP_BITS)
    forced_cart = recent_cart[owner] & (seq == sessions[owner] - 1)
    spender = big_spender[owner]
    pages = 1 + rng.geometric("pages", keys, P_MORE_PAGES, 6)
    views = rng.chance("views_products", keys, P_VIEWS_PRODUCTS) | forced_cart
    products = np.where(views, 1 + rng.geometric("products", keys, P_MORE_PRODUCTS, 6), 0)
    carts = views & rng.chance("adds_to_cart", keys, _by_spender(spender, P_ADDS_TO_CART))
    carts |= forced_cart
    orders = carts & ~forced_cart & rng.chance("orders", keys, _by_spender(spender, P_ORDERS))
    quantity = 1 + rng.geometric("quantity", keys, P_MORE_ITEMS, 5)
    quantity += np.where(spender, rng.integers("spender_quantity", keys, 1, 5), 0)
    return _Sessions(
        owner=owner,
        seq=seq,
        keys=keys,
        pages=pages,
        products=products,
        carts=carts.astype(np.int64),
        orders=orders.astype(np.int64),
        quantity=quantity,
        start_us=_session_starts(ctx, people, owner, keys, active_until, forced_cart),
    )


def events_table(ctx: DemoContext, people: Population) -> pa.Table:
    """Every behavioural event of the chunk's profiles, profile by profile, in session order."""
    plan = _plan_sessions(ctx, people)
    length = plan.length
    session = np.repeat(np.arange(plan.owner.size, dtype=np.int64), length)
    first_event = np.cumsum(length) - length
    step = np.arange(session.size, dtype=np.int64) - np.repeat(first_event, length)
    browsed = plan.pages + plan.products
    kind = (step >= np.repeat(plan.pages, length)).astype(np.int8)
    kind += step >= np.repeat(browsed, length)
    kind += step >= np.repeat(browsed + plan.carts, length)
    is_order = kind == ORDER
    buys = kind >= ADD_TO_CART
    timing_u, product_u = ctx.rng.uniform_pair(
        "event", np.repeat(plan.keys, length) | step.astype(np.uint64)
    )

    # Products viewed by popularity; the cart (and order) holds the last product viewed.
    product = popular_products(product_u)
    product[buys] = product[np.repeat(first_event + browsed - 1, length)[buys]]

    # Steps follow each other by exponential gaps; sessions end before `now`.
    gap = np.log(timing_u)
    gap *= -STEP_GAP_MEAN_US
    gap[is_order] *= CHECKOUT_GAP_MEAN_US / STEP_GAP_MEAN_US
    elapsed = gap.astype(np.int64)
    elapsed += SECOND_US
    elapsed[first_event] = 0
    np.cumsum(elapsed, out=elapsed)
    elapsed -= np.repeat(elapsed[first_event], length)
    latest_start = ctx.now_us - elapsed[first_event + length - 1] - SECOND_US
    start = np.maximum(np.minimum(plan.start_us, latest_start), people.created_us[plan.owner])
    occurred = np.repeat(start, length)
    occurred += elapsed
    np.minimum(occurred, ctx.now_us - 1, out=occurred)

    event_owner = plan.owner[session]
    ordered = np.flatnonzero(plan.orders)
    order_ids = fixed_ids(
        [
            "ord_",
            np.take(people.numbers, plan.owner[ordered], axis=0),
            "_",
            digits(plan.seq[ordered], _SESSION_DIGITS),
        ],
        ordered.size,
    )
    order_position = np.zeros(session.size, dtype=np.int64)
    order_position[is_order] = np.arange(ordered.size, dtype=np.int64)
    quantities = np.zeros(session.size, dtype=np.int32)
    quantities[buys] = plan.quantity[session[buys]]
    revenue = np.zeros(session.size, dtype=np.float64)
    revenue[is_order] = np.round(
        catalogue_prices(ctx.rng)[product[is_order]] * plan.quantity[session[is_order]], 2
    )
    event_ids = fixed_ids(
        [
            "ev_",
            np.take(people.numbers, event_owner, axis=0),
            "_",
            np.take(digits(plan.seq, _SESSION_DIGITS), session, axis=0),
            "_",
            digits(step, 2),
        ],
        session.size,
    )
    columns = {
        "event_id": event_ids,
        "profile_id": people.profile_ids.take(pa.array(event_owner)),
        "event_type": pa.array(EVENT_TYPES).take(pa.array(kind)),
        "occurred_at": pa.array(occurred, type=EVENTS.schema.field("occurred_at").type),
        "product_id": picked(catalogue_ids(), product, kind == PAGE_VIEW),
        "order_id": picked(order_ids, order_position, ~is_order),
        "revenue": pa.array(revenue, mask=~is_order, type=pa.float64()),
        "quantity": pa.array(quantities, mask=~buys, type=pa.int32()),
        "source": pa.repeat(SOURCE, session.size),
    }
    return pa.Table.from_pydict(columns, schema=EVENTS.schema)


def _by_spender(spender: Bools, probabilities: dict[bool, float]) -> Floats:
    return np.where(spender, probabilities[True], probabilities[False]).astype(np.float64)


def _active_until(ctx: DemoContext, people: Population) -> Ints:
    """When each profile stops coming back (may lie in the future: still active)."""
    keys = item_keys(people.index)
    lifetime = ctx.rng.exponential("lifetime", keys, LIFETIME_MEAN_DAYS * DAY_US).astype(np.int64)
    return people.created_us + lifetime


def _session_counts(ctx: DemoContext, people: Population, active_until: Ints) -> Ints:
    """Sessions over each profile's active span: a heavy-tailed monthly rate times the span,
    rounded up or down at random so the mean is kept."""
    rng = ctx.rng
    keys = item_keys(people.index)
    rate = np.exp(
        np.log(SESSIONS_PER_MONTH_MEDIAN) + SESSIONS_PER_MONTH_SPREAD * rng.normal("activity", keys)
    )
    span_months = (np.minimum(active_until, ctx.now_us) - people.created_us) / (30 * DAY_US)
    expected = rate * span_months
    count = np.floor(expected + rng.uniform("session_rounding", keys)).astype(np.int64)
    count[rng.chance("never_active", keys, NEVER_ACTIVE_SHARE)] = 0
    return np.asarray(np.minimum(count, MAX_SESSIONS), dtype=np.int64)


def _session_starts(
    ctx: DemoContext,
    people: Population,
    owner: Ints,
    keys: Keys,
    active_until: Ints,
    forced_cart: Bools,
) -> Ints:
    """Uniform over the active span, moved to a local daytime hour of the same day; the
    forced abandoned-cart sessions fall in the last 24 hours."""
    rng = ctx.rng
    created = people.created_us[owner]
    end = np.minimum(active_until[owner], ctx.now_us)
    start = created + ((end - created) * rng.uniform("session_at", keys)).astype(np.int64)
    hour = rng.choice("session_hour", keys, SIGNUP_AND_BROWSING_HOURS)
    time_of_day = hour * HOUR_US + rng.integers("session_second", keys, 0, HOUR_US)
    start = ctx.clock.at_local_time_of_day(people.zone[owner], start, time_of_day)
    start = np.where(start >= end, start - DAY_US, start)
    start = np.where(start < created, start + DAY_US, start)
    recent_from = np.maximum(created, ctx.now_us - 23 * HOUR_US)
    recent_span = np.maximum(ctx.now_us - 30 * MINUTE_US - recent_from, 0)
    recent = recent_from + (recent_span * rng.uniform("recent_cart_at", keys)).astype(np.int64)
    return np.where(forced_cart, recent, start)
