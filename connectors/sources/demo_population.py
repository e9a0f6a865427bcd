"""Who the demo profiles are: identity, address, phone, country and time zone, signup date,
consent history, and the occasional second version of a profile.

Each profile is a pure function of (seed, profile index) (see `demo_random`), so a chunk of
profiles can be built without knowing any other chunk. The messy parts of real data are here on
purpose, because later features need them: ~1% invalid addresses, family members sharing one
address (for address dedupe), odd case and stray whitespace, missing phones, profiles that are
updated later, and consent given at signup or later, and sometimes withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from connectors.raw_schemas import CONSENT_EVENTS, PROFILES
from connectors.sources.demo_local_time import DAY_US, HOUR_US, MINUTE_US, SECOND_US, ZoneOffsets
from connectors.sources.demo_random import Bools, Ints, KeyedRandom, Keys, item_keys
from connectors.sources.demo_strings import (
    Bytes,
    arrow_strings,
    digits,
    fixed_ids,
    nulled,
    numbered,
)
from connectors.sources.demo_world import (
    COUNTRIES,
    FIRST_NAMES,
    LAST_NAMES,
    SIGNUP_AND_BROWSING_HOURS,
    ZONES,
    email_domains,
    email_form,
)

SOURCE = "demo"
NEVER = np.iinfo(np.int64).max
"""Timestamp sentinel for "did not happen" in consent arrays."""

HISTORY_DAYS = 730
"""Profiles signed up over the last two years..."""
GROWTH_OVER_HISTORY = 3.0
"""...three times as many per day now as two years ago..."""
FRESH_COHORT_SHARE = 0.04
"""...plus a fresh cohort (a signup campaign) over the last 7 days."""

PHONE_SHARE = 0.70
EMAIL_KIND_WEIGHTS = {"normal": 97.5, "missing": 1.0, "invalid": 1.0, "odd_format": 0.5}
FAMILY_ADDRESS_RATE = 0.005
"""Share of profiles that use the address of the profile before them (one household)."""
SECOND_VERSION_RATE = 0.005

EMAIL_CONSENT = {"granted": 0.70, "withdrawn": 0.08}
SMS_CONSENT = {"granted": 0.35, "withdrawn": 0.05}
CONSENT_AT_SIGNUP = 0.65
LATER_CONSENT_MEAN_DAYS = 30

_NORMAL, _MISSING, _INVALID, _ODD = (
    tuple(EMAIL_KIND_WEIGHTS).index(kind) for kind in ("normal", "missing", "invalid", "odd_format")
)
_LOCAL_STYLES = {".": 70.0, "": 12.0, "_": 8.0, "last.first": 6.0}
_LAST_FIRST = tuple(_LOCAL_STYLES).index("last.first")
_N_INVALID_VARIANTS = 6
_N_ODD_VARIANTS = 4

_FIRST_FORMS = pa.array([email_form(n) for n in FIRST_NAMES])
_LAST_FORMS = pa.array([email_form(n) for n in LAST_NAMES])
_NAME_PAIRS = len(FIRST_NAMES) * len(LAST_NAMES)
_SLOT_BITS = 20
_SLOT_MASK = (1 << _SLOT_BITS) - 1


@dataclass(frozen=True)
class DemoContext:
    """What every part of one generation run shares: randomness, `now`, the zone clock."""

    rng: KeyedRandom
    now_us: int
    clock: ZoneOffsets
    id_digits: int

    @classmethod
    def create(cls, *, seed: int, now_us: int, n_profiles: int) -> DemoContext:
        window_start = now_us - (HISTORY_DAYS + 10) * DAY_US
        clock = ZoneOffsets(ZONES, window_start, now_us + 14 * DAY_US)
        return cls(KeyedRandom(seed), now_us, clock, max(7, len(str(n_profiles))))

    def profile_numbers(self, index: Ints) -> Bytes:
        """Profile numbers (index + 1) as zero-padded digits: the core of every demo id."""
        return digits(index + 1, self.id_digits)


@dataclass(frozen=True)
class ConsentHistory:
    """When each profile granted and withdrew consent on one channel (`NEVER` if not)."""

    granted_us: Ints
    withdrawn_us: Ints

    def held_at(self, moment_us: int) -> Bools:
        """Whether consent was in force at `moment_us`."""
        return np.asarray(
            (self.granted_us <= moment_us) & (moment_us < self.withdrawn_us), dtype=np.bool_
        )


@dataclass(frozen=True)
class Population:
    """One chunk of profiles: their first version as a table, plus the arrays other parts
    of the generator build on."""

    index: Ints
    numbers: Bytes
    """Each profile's number as id digits (`0000001`), to build ids from."""
    profile_ids: pa.StringArray
    country: Ints
    zone: Ints
    created_us: Ints
    recipient: pa.StringArray
    """The address a sender would use (trimmed, lowercase); null when missing or invalid."""
    deliverable: Bools
    email_consent: ConsentHistory
    sms_consent: ConsentHistory
    profiles: pa.Table


def build_population(ctx: DemoContext, index: Ints) -> Population:
    """The profiles with the given (0-based) indices."""
    rng = ctx.rng
    keys = item_keys(index)
    kind, adopts = _email_kinds(rng, index)
    household = np.where(adopts, index - 1, index)
    country = rng.choice("country", item_keys(household), [c.weight for c in COUNTRIES])
    zone = _zones(rng, household, country)
    created_us = _signup_times(ctx, keys, zone)

    own_first, _, _ = _name_slot_parts(rng, index)
    house_first, house_last, house_number = _name_slot_parts(rng, household)
    clean, email = _addresses(rng, household, country, house_first, house_last, house_number, kind)
    deliverable = (kind == _NORMAL) | (kind == _ODD)
    recipient = nulled(clean, ~deliverable)

    has_phone = rng.chance("has_phone", keys, PHONE_SHARE)
    phone = nulled(_phones(rng, "phone", index, country), ~has_phone)
    numbers = ctx.profile_numbers(index)
    profile_ids = fixed_ids(["p_", numbers], index.size)
    email_consent = _consent_history(
        ctx, "email", index, created_us, kind != _MISSING, 1 - EMAIL_KIND_WEIGHTS["missing"] / 100,
        EMAIL_CONSENT,
    )  # fmt: skip
    sms_consent = _consent_history(
        ctx, "sms", index, created_us, has_phone, PHONE_SHARE, SMS_CONSENT
    )
    created = pa.array(created_us, type=PROFILES.schema.field("created_at").type)
    columns = {
        "profile_id": profile_ids,
        "email": email,
        "phone": phone,
        "first_name": pa.array(FIRST_NAMES).take(pa.array(own_first)),
        "last_name": pa.array(LAST_NAMES).take(pa.array(house_last)),
        "country": pa.array([c.code for c in COUNTRIES]).take(pa.array(country)),
        "time_zone": pa.array(ZONES).take(pa.array(zone)),
        "created_at": created,
        "updated_at": created,
        "source": pa.repeat(SOURCE, len(index)),
    }
    profiles = pa.Table.from_pydict(columns, schema=PROFILES.schema)
    return Population(
        index=index,
        numbers=numbers,
        profile_ids=profile_ids,
        country=country,
        zone=zone,
        created_us=created_us,
        recipient=recipient,
        deliverable=deliverable,
        email_consent=email_consent,
        sms_consent=sms_consent,
        profiles=profiles,
    )


def profile_updates(ctx: DemoContext, people: Population) -> pa.Table:
    """A later version of a few profiles (a new phone number), as a source would resend them."""
    keys = item_keys(people.index)
    room_us = ctx.now_us - people.created_us
    updated = ctx.rng.chance("second_version", keys, SECOND_VERSION_RATE) & (
        room_us > 2 * MINUTE_US
    )
    rows = np.flatnonzero(updated)
    share = 0.1 + 0.89 * ctx.rng.uniform("second_version_at", keys[rows])
    updated_us = people.created_us[rows] + (room_us[rows] * share).astype(np.int64) + SECOND_US
    country = people.country[rows]
    table = people.profiles.take(pa.array(rows))
    new_phone = _phones(ctx.rng, "phone_v2", people.index[rows], country)
    table = table.set_column(
        PROFILES.schema.get_field_index("phone"), PROFILES.schema.field("phone"), new_phone
    )
    return table.set_column(
        PROFILES.schema.get_field_index("updated_at"),
        PROFILES.schema.field("updated_at"),
        pa.array(updated_us, type=PROFILES.schema.field("updated_at").type),
    )


def consent_events(people: Population) -> pa.Table:
    """Consent granted/withdrawn per channel, in profile order; no row means never asked."""
    grid = np.stack(
        [
            people.email_consent.granted_us,
            people.email_consent.withdrawn_us,
            people.sms_consent.granted_us,
            people.sms_consent.withdrawn_us,
        ],
        axis=1,
    ).ravel()
    happened = grid != NEVER
    slot = np.tile(np.arange(4, dtype=np.int64), len(people.index))[happened]
    owner = np.repeat(np.arange(len(people.index), dtype=np.int64), 4)[happened]
    consent_event_ids = fixed_ids(
        ["ce_", np.take(people.numbers, owner, axis=0)],
        owner.size,
        suffixes=["_email_granted", "_email_withdrawn", "_sms_granted", "_sms_withdrawn"],
        suffix_codes=slot,
    )
    columns = {
        "consent_event_id": consent_event_ids,
        "profile_id": people.profile_ids.take(pa.array(owner)),
        "channel": pa.array(["email", "email", "sms", "sms"]).take(pa.array(slot)),
        "status": pa.array(["granted", "withdrawn", "granted", "withdrawn"]).take(pa.array(slot)),
        "occurred_at": pa.array(
            grid[happened], type=CONSENT_EVENTS.schema.field("occurred_at").type
        ),
        "source": pa.repeat(SOURCE, int(happened.sum())),
    }
    return pa.Table.from_pydict(columns, schema=CONSENT_EVENTS.schema)


def _email_kinds(rng: KeyedRandom, index: Ints) -> tuple[Ints, Bools]:
    """Each profile's kind of address, and whether it adopts its predecessor's address.

    A profile adopts only if its predecessor has a normal address of its own, so every shared
    address is shared by exactly two profiles and is byte-identical in both.
    """
    weights = list(EMAIL_KIND_WEIGHTS.values())
    previous = np.maximum(index - 1, 0)
    kind = rng.choice("email_kind", item_keys(index), weights)
    previous_kind = rng.choice("email_kind", item_keys(previous), weights)
    wants = rng.chance("family_address", item_keys(index), FAMILY_ADDRESS_RATE)
    previous_wants = rng.chance("family_address", item_keys(previous), FAMILY_ADDRESS_RATE)
    adopts = wants & ~previous_wants & (previous_kind == _NORMAL) & (index >= 1)
    return np.where(adopts, _NORMAL, kind), adopts


def _zones(rng: KeyedRandom, household: Ints, country: Ints) -> Ints:
    zone = np.empty_like(country)
    keys = item_keys(household)
    for code, spec in enumerate(COUNTRIES):
        here = country == code
        if not here.any():
            continue
        zone_codes = np.asarray([ZONES.index(name) for name, _ in spec.zones], dtype=np.int64)
        picks = rng.choice("zone", keys[here], [weight for _, weight in spec.zones])
        zone[here] = zone_codes[picks]
    return zone


def _signup_times(ctx: DemoContext, keys: Keys, zone: Ints) -> Ints:
    """Signups grow over two years, with a fresh cohort in the last week, at local daytime."""
    rng = ctx.rng
    growth = np.log(GROWTH_OVER_HISTORY) / HISTORY_DAYS
    u = rng.uniform("signup_age", keys)
    curve_days = -np.log1p(-u * (1 - np.exp(-growth * HISTORY_DAYS))) / growth
    fresh = rng.chance("fresh_cohort", keys, FRESH_COHORT_SHARE)
    age_days = np.where(fresh, u * 7, curve_days)
    approx = ctx.now_us - (age_days * DAY_US).astype(np.int64)
    hour = rng.choice("signup_hour", keys, SIGNUP_AND_BROWSING_HOURS)
    time_of_day = hour * HOUR_US + rng.integers("signup_second", keys, 0, HOUR_US)
    created = ctx.clock.at_local_time_of_day(zone, approx, time_of_day)
    return np.where(created >= ctx.now_us, created - DAY_US, created)


def _name_slot_parts(rng: KeyedRandom, index: Ints) -> tuple[Ints, Ints, Ints]:
    """First name, last name and address number of each profile's name slot.

    A seeded bijection of the index (within blocks of 2**20) picks the slot, so no two profiles
    share (first, last, number): addresses built from it are unique without any lookup.
    """
    offsets = rng.integers(
        "name_slot_offset", item_keys(np.arange(2, dtype=np.int64)), 0, 1 << _SLOT_BITS
    )
    x = (index & _SLOT_MASK).astype(np.int64)
    x = (x + offsets[0]) & _SLOT_MASK
    x = (x * 0x9E3B5) & _SLOT_MASK
    x ^= x >> 11
    x = (x * 0x5F4AD) & _SLOT_MASK
    x ^= x >> 7
    x = (x + offsets[1]) & _SLOT_MASK
    slot = ((index >> _SLOT_BITS) << _SLOT_BITS) | x
    pair = slot % _NAME_PAIRS
    return pair // len(LAST_NAMES), pair % len(LAST_NAMES), slot // _NAME_PAIRS


def _addresses(
    rng: KeyedRandom,
    household: Ints,
    country: Ints,
    first: Ints,
    last: Ints,
    number: Ints,
    kind: Ints,
) -> tuple[pa.StringArray, pa.StringArray]:
    """The clean address of each household, and the address as the profile carries it."""
    keys = item_keys(household)
    style = rng.choice("local_style", keys, list(_LOCAL_STYLES.values()))
    domain_codes, domain_names = _domains(rng, keys, country)
    frame = pl.DataFrame(
        {
            "first": pl.from_arrow(_FIRST_FORMS.take(pa.array(first))),
            "last": pl.from_arrow(_LAST_FORMS.take(pa.array(last))),
            "number": number,
            "style": style,
            "sep": pl.Series(list(_LOCAL_STYLES)).gather(style),
            "domain": pl.Series(domain_names).gather(domain_codes),
        }
    )
    first_c, last_c, domain = pl.col("first"), pl.col("last"), pl.col("domain")
    number_c = pl.col("number")
    suffix = pl.when(number_c > 0).then(number_c.cast(pl.String)).otherwise(pl.lit(""))
    local = (
        pl.when(pl.col("style") == _LAST_FIRST)
        .then(pl.concat_str([last_c, pl.lit("."), first_c, suffix]))
        .otherwise(pl.concat_str([first_c, pl.col("sep"), last_c, suffix]))
    )
    clean = pl.concat_str([local, pl.lit("@"), domain])
    clean_addresses = frame.select(clean).to_series()

    # The few invalid and oddly formatted addresses: variants of the clean one.
    special = np.flatnonzero((kind == _INVALID) | (kind == _ODD))
    variant = pl.col("variant")
    invalid = (
        pl.when(variant == 0).then(pl.concat_str([local, domain]))
        .when(variant == 1).then(
            pl.concat_str([first_c, pl.lit(" "), last_c, suffix, pl.lit("@"), domain])
        )
        .when(variant == 2).then(pl.concat_str([clean, pl.lit(".")]))
        .when(variant == 3).then(pl.concat_str([local, pl.lit("@@"), domain]))
        .when(variant == 4).then(
            pl.concat_str([local, pl.lit("@"), domain.str.extract(r"^([^.]+)", 1)])
        )
        .otherwise(pl.concat_str([first_c, pl.lit(".."), last_c, suffix, pl.lit("@"), domain]))
    )  # fmt: skip
    odd = (
        pl.when(variant == 0).then(clean.str.to_uppercase())
        .when(variant == 1).then(clean.str.to_titlecase())
        .when(variant == 2).then(pl.concat_str([pl.lit(" "), clean, pl.lit(" ")]))
        .otherwise(pl.concat_str([clean.str.to_titlecase(), pl.lit("  ")]))
    )  # fmt: skip
    special_keys = keys[special]
    variants = (
        frame[special]
        .with_columns(
            kind=kind[special],
            variant=np.where(
                kind[special] == _INVALID,
                rng.integers("invalid_variant", special_keys, 0, _N_INVALID_VARIANTS),
                rng.integers("odd_variant", special_keys, 0, _N_ODD_VARIANTS),
            ),
        )
        .select(pl.when(pl.col("kind") == _INVALID).then(invalid).otherwise(odd))
    )
    carried = clean_addresses.clone().scatter(special, variants.to_series())  # scatter is in place
    missing = np.flatnonzero(kind == _MISSING)
    carried = carried.scatter(missing, pl.Series([None] * missing.size, dtype=pl.String))
    return arrow_strings(clean_addresses), arrow_strings(carried)


def _domains(rng: KeyedRandom, keys: Keys, country: Ints) -> tuple[Ints, list[str]]:
    """Each household's email domain from its country's mix, and the domain names."""
    names: list[str] = []
    codes = np.empty(len(keys), dtype=np.int64)
    for code, spec in enumerate(COUNTRIES):
        here = country == code
        mix = email_domains(spec)
        known = {name: i for i, name in enumerate(names)}
        for name, _ in mix:
            if name not in known:
                known[name] = len(names)
                names.append(name)
        if here.any():
            table = np.asarray([known[name] for name, _ in mix], dtype=np.int64)
            codes[here] = table[rng.choice("email_domain", keys[here], [w for _, w in mix])]
    return codes, names


def _phones(rng: KeyedRandom, stream: str, index: Ints, country: Ints) -> pa.StringArray:
    """Mobile numbers in E.164 for each profile's country."""
    keys = item_keys(index)
    full = np.empty(len(index), dtype=np.int64)
    for code, spec in enumerate(COUNTRIES):
        here = country == code
        if not here.any():
            continue
        prefixes = np.asarray(spec.mobile_prefixes, dtype=np.int64)
        prefix = prefixes[rng.integers(stream + "/prefix", keys[here], 0, len(prefixes))]
        scale = 10**spec.subscriber_digits
        subscriber = rng.integers(stream + "/subscriber", keys[here], spec.subscriber_min, scale)
        national = prefix * scale + subscriber
        national_digits = np.floor(np.log10(national)).astype(np.int64) + 1
        full[here] = spec.calling_code * 10**national_digits + national
    return numbered("+", full)


def _consent_history(
    ctx: DemoContext,
    channel: str,
    index: Ints,
    created_us: Ints,
    reachable: Bools,
    reachable_share: float,
    shares: dict[str, float],
) -> ConsentHistory:
    """Consent asked only of profiles with an address on the channel, scaled so the shares
    hold over all profiles: granted at signup or later, then sometimes withdrawn."""
    rng = ctx.rng
    keys = item_keys(index)
    granted_p = shares["granted"] / reachable_share
    withdrawn_p = shares["withdrawn"] / reachable_share
    state = rng.choice(
        f"{channel}_consent", keys, [granted_p, withdrawn_p, 1 - granted_p - withdrawn_p]
    )
    ever = reachable & (state < 2)
    at_signup = rng.chance(f"{channel}_consent_at_signup", keys, CONSENT_AT_SIGNUP)
    later = rng.exponential(f"{channel}_consent_delay", keys, LATER_CONSENT_MEAN_DAYS * DAY_US)
    delay = np.where(
        at_signup, rng.integers(f"{channel}_consent_lag", keys, 0, 5 * MINUTE_US), later
    )
    granted = created_us + delay.astype(np.int64)
    room = ctx.now_us - created_us
    too_late = granted >= ctx.now_us
    granted = np.where(
        too_late,
        created_us + (room * rng.uniform(f"{channel}_consent_fit", keys)).astype(np.int64),
        granted,
    )
    share = 0.02 + 0.96 * rng.uniform(f"{channel}_withdrawn_at", keys)
    withdrawn = granted + np.maximum(((ctx.now_us - granted) * share).astype(np.int64), 1)
    withdrawn = np.minimum(withdrawn, ctx.now_us - 1)
    return ConsentHistory(
        granted_us=np.where(ever, granted, NEVER),
        withdrawn_us=np.where(ever & (state == 1), withdrawn, NEVER),
    )
