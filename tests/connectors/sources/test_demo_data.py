"""The demo data set: deterministic, schema-exact, realistic, and carrying the signal the
segments and the send-time feature look for.

Most checks query the generated tables with DuckDB, the way an analyst would look at the
data after `make demo`.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.landing import LocalLandingZone
from connectors.raw_schemas import CONSENT_EVENTS, DATASETS, EVENTS, MESSAGE_EVENTS, PROFILES
from connectors.sources.demo_campaigns import preferred_open_hours
from connectors.sources.demo_data import (
    MAX_BATCH_ROWS,
    DemoDataSummary,
    generate_demo_batches,
    write_demo_data,
)
from connectors.sources.demo_random import KeyedRandom
from connectors.sources.demo_world import COUNTRIES

N_PROFILES = 5_000
SEED = 42
NOW = datetime(2025, 6, 1, 12, 0, 0)
# What the demo generates: every landing dataset but the ones only a real source writes.
DEMO_DATASETS = {ds.name for ds in (PROFILES, CONSENT_EVENTS, EVENTS, MESSAGE_EVENTS)}
# A syntactically valid address, after the trimming and lowercasing any sender does.
VALID_EMAIL = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$")
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")


def _collect(batches: Iterator[tuple[str, pa.Table]]) -> dict[str, pa.Table]:
    tables: dict[str, list[pa.Table]] = defaultdict(list)
    for name, table in batches:
        tables[name].append(table)
    return {name: pa.concat_tables(parts) for name, parts in tables.items()}


@pytest.fixture(scope="module")
def batches() -> list[tuple[str, pa.Table]]:
    return list(generate_demo_batches(N_PROFILES, seed=SEED, now=NOW))


@pytest.fixture(scope="module")
def data(batches: list[tuple[str, pa.Table]]) -> dict[str, pa.Table]:
    return _collect(iter(batches))


@pytest.fixture(scope="module")
def db(data: dict[str, pa.Table]) -> Iterator[duckdb.DuckDBPyConnection]:
    """The data set in DuckDB; `profiles` holds each profile's first version only."""
    con = duckdb.connect()
    for name, table in data.items():
        con.register(f"all_{name}", table)
    con.execute("create view profiles as select * from all_profiles where updated_at = created_at")
    con.execute("create view consent_events as select * from all_consent_events")
    con.execute("create view events as select * from all_events")
    con.execute("create view message_events as select * from all_message_events")
    con.execute(f"set variable now = timestamp '{NOW.isoformat(sep=' ')}'")
    yield con
    con.close()


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row


# --- determinism -------------------------------------------------------------------------


def test_same_inputs_give_identical_data_whatever_the_chunk_size(
    data: dict[str, pa.Table],
) -> None:
    aware_now = NOW.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=2)))
    for other in (
        _collect(generate_demo_batches(N_PROFILES, seed=SEED, now=NOW)),
        _collect(generate_demo_batches(N_PROFILES, seed=SEED, now=NOW, chunk_profiles=1_234)),
        _collect(generate_demo_batches(N_PROFILES, seed=SEED, now=aware_now, chunk_profiles=999)),
    ):
        assert other.keys() == data.keys()
        for name, table in data.items():
            assert other[name].equals(table), f"{name} differs"


def test_different_seed_gives_different_data(data: dict[str, pa.Table]) -> None:
    other = _collect(generate_demo_batches(N_PROFILES, seed=SEED + 1, now=NOW))
    for name, table in data.items():
        assert not other[name].equals(table), f"{name} did not change with the seed"
    # ...but ids keep their shape and the first profile is still p_0000001.
    assert other["profiles"]["profile_id"][0].as_py() == "p_0000001"


def test_a_profile_is_the_same_in_a_smaller_demo(data: dict[str, pa.Table]) -> None:
    small = _collect(generate_demo_batches(300, seed=SEED, now=NOW))
    first_300 = data["profiles"].slice(0, 300)
    assert small["profiles"].slice(0, 300).equals(first_300)


# --- schema -------------------------------------------------------------------------------


def test_every_batch_has_its_datasets_exact_schema(batches: list[tuple[str, pa.Table]]) -> None:
    assert {name for name, _ in batches} == DEMO_DATASETS
    for name, table in batches:
        expected = DATASETS[name]
        assert table.schema.equals(expected.schema), f"{name}: {table.schema}"
        for column in expected.required:
            assert table[column].null_count == 0, f"{name}.{column} has nulls"
        assert 0 < table.num_rows <= MAX_BATCH_ROWS


def test_ids_are_unique_and_shaped(db: duckdb.DuckDBPyConnection) -> None:
    for table, key in [
        ("profiles", "profile_id"),
        ("consent_events", "consent_event_id"),
        ("events", "event_id"),
        ("message_events", "message_event_id"),
    ]:
        total, distinct = _one(db, f"select count(*), count(distinct {key}) from {table}")
        assert total == distinct > 0, f"{table}.{key} not unique"
    first, last, count = _one(db, "select min(profile_id), max(profile_id), count(*) from profiles")
    assert (first, last, count) == ("p_0000001", f"p_{N_PROFILES:07d}", N_PROFILES)
    assert _one(
        db, "select count(*) from events where profile_id not in (select profile_id from profiles)"
    ) == (0,)


# --- time ---------------------------------------------------------------------------------


def test_all_history_lies_before_now(db: duckdb.DuckDBPyConnection) -> None:
    latest = [
        _one(db, "select max(updated_at) from all_profiles")[0],
        _one(db, "select max(created_at) from all_profiles")[0],
        _one(db, "select max(occurred_at) from consent_events")[0],
        _one(db, "select max(occurred_at) from events")[0],
        _one(db, "select max(occurred_at) from message_events")[0],
    ]
    assert all(moment < NOW for moment in latest), latest


def test_nothing_happens_before_its_profile_signed_up(db: duckdb.DuckDBPyConnection) -> None:
    for table in ("consent_events", "events", "message_events"):
        early = _one(
            db,
            f"select count(*) from {table} t join profiles p using (profile_id) "
            "where t.occurred_at < p.created_at",
        )[0]
        assert early == 0, f"{table} has rows before signup"


def test_signups_span_two_years_with_growth_and_a_fresh_cohort(
    db: duckdb.DuckDBPyConnection,
) -> None:
    oldest, first_year, second_year, last_week = _one(
        db,
        """
        select min(created_at),
               count(*) filter (where created_at < getvariable('now') - interval 365 day),
               count(*) filter (where created_at >= getvariable('now') - interval 365 day),
               count(*) filter (where created_at >= getvariable('now') - interval 7 day)
        from profiles
        """,
    )
    assert NOW - timedelta(days=735) < oldest < NOW - timedelta(days=700)
    assert second_year > 1.3 * first_year
    assert 0.04 < last_week / N_PROFILES < 0.09


def test_activity_happens_mostly_at_local_daytime(data: dict[str, pa.Table]) -> None:
    zones = dict(
        zip(*data["profiles"].select(["profile_id", "time_zone"]).to_pydict().values(), strict=True)
    )
    sample = data["events"].slice(0, 5_000).select(["profile_id", "occurred_at"]).to_pylist()
    hours = [
        row["occurred_at"].replace(tzinfo=UTC).astimezone(ZoneInfo(zones[row["profile_id"]])).hour
        for row in sample
    ]
    night = sum(1 for h in hours if 1 <= h < 6)
    assert night / len(hours) < 0.06


# --- profiles -----------------------------------------------------------------------------


def test_about_one_percent_of_addresses_are_invalid(data: dict[str, pa.Table]) -> None:
    emails = [e for e in data["profiles"]["email"].to_pylist()[:N_PROFILES] if e is not None]
    invalid = [e for e in emails if not VALID_EMAIL.match(e.strip().lower())]
    assert 0.006 < len(invalid) / N_PROFILES < 0.016, invalid[:5]
    kinds = {
        "missing @": any("@" not in e for e in invalid),
        "space": any(" " in e.strip() for e in invalid),
        "trailing dot": any(e.endswith(".") for e in invalid),
    }
    assert all(kinds.values()), kinds


def test_some_addresses_have_odd_case_or_whitespace(data: dict[str, pa.Table]) -> None:
    emails = [e for e in data["profiles"]["email"].to_pylist()[:N_PROFILES] if e is not None]
    odd = [e for e in emails if e != e.strip().lower() and VALID_EMAIL.match(e.strip().lower())]
    assert 0.002 < len(odd) / N_PROFILES < 0.01
    assert any(e != e.strip() for e in odd) and any(e.strip() != e.strip().lower() for e in odd)


def test_family_members_share_an_address(db: duckdb.DuckDBPyConnection) -> None:
    shared, max_sharing, same_last_name = _one(
        db,
        """
        with grouped as (
            select lower(trim(email)) address, count(*) holders,
                   count(distinct last_name) last_names
            from profiles where email is not null group by 1
        )
        select count(*) filter (where holders > 1), max(holders),
               bool_and(last_names = 1) filter (where holders > 1)
        from grouped
        """,
    )
    assert 0.002 < shared / N_PROFILES < 0.01
    assert max_sharing == 2
    assert same_last_name


def test_addresses_use_a_realistic_domain_mix(db: duckdb.DuckDBPyConnection) -> None:
    shares = dict(
        db.execute(
            "select split_part(lower(trim(email)), '@', 2), count(*) / sum(count(*)) over () "
            "from profiles where email like '%@%' group by 1"
        ).fetchall()
    )
    assert 0.3 < shares["gmail.com"] < 0.5
    for domain in ("yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "acmecorp.com"):
        assert domain in shares
    assert any(d.endswith(".co.uk") for d in shares) and any(d.endswith(".de") for d in shares)


def test_phones_are_e164_for_the_country_and_some_are_missing(
    data: dict[str, pa.Table],
) -> None:
    calling = {c.code: f"+{c.calling_code}" for c in COUNTRIES}
    rows = data["profiles"].slice(0, N_PROFILES).select(["phone", "country"]).to_pylist()
    phones = [r for r in rows if r["phone"] is not None]
    assert 0.25 < 1 - len(phones) / len(rows) < 0.35
    assert all(E164.match(r["phone"]) for r in phones)
    assert all(r["phone"].startswith(calling[r["country"]]) for r in phones)


def test_every_time_zone_is_valid_and_fits_the_country(data: dict[str, pa.Table]) -> None:
    pairs = Counter(
        zip(
            data["profiles"]["country"].to_pylist(),
            data["profiles"]["time_zone"].to_pylist(),
            strict=True,
        )
    )
    allowed = {c.code: {zone for zone, _ in c.zones} for c in COUNTRIES}
    for country, zone in pairs:
        ZoneInfo(zone)  # raises for an unknown zone
        assert zone in allowed[country], (country, zone)
    us_zones = {zone for country, zone in pairs if country == "US"}
    assert len(us_zones) >= 4
    countries = Counter(data["profiles"]["country"].to_pylist())
    assert countries.most_common(1)[0][0] == "US" and len(countries) >= 12


def test_a_few_profiles_get_a_later_version_in_a_later_batch(
    batches: list[tuple[str, pa.Table]],
) -> None:
    first_seen: dict[str, tuple[int, dict[str, Any]]] = {}
    updates = []
    for position, (name, table) in enumerate(batches):
        if name != "profiles":
            continue
        for row in table.to_pylist():
            if row["profile_id"] in first_seen:
                updates.append((position, row))
            else:
                first_seen[row["profile_id"]] = (position, row)
    assert 0.002 < len(updates) / N_PROFILES < 0.01
    for position, row in updates:
        original_position, original = first_seen[row["profile_id"]]
        assert position > original_position
        assert row["updated_at"] > original["updated_at"]
        assert row["phone"] != original["phone"]
        assert row["email"] == original["email"]


# --- consent ------------------------------------------------------------------------------


def test_consent_mix_is_within_tolerance(db: duckdb.DuckDBPyConnection) -> None:
    shares = {
        (channel, state): share
        for channel, state, share in db.execute(
            f"""
            with per_profile as (
                select profile_id, channel,
                       case when bool_or(status = 'withdrawn') then 'withdrawn'
                            else 'granted' end as state
                from consent_events group by all
            )
            select channel, state, count(*) / {N_PROFILES} from per_profile group by all
            """
        ).fetchall()
    }
    assert shares[("email", "granted")] == pytest.approx(0.70, abs=0.03)
    assert shares[("email", "withdrawn")] == pytest.approx(0.08, abs=0.015)
    assert shares[("sms", "granted")] == pytest.approx(0.35, abs=0.03)
    assert shares[("sms", "withdrawn")] == pytest.approx(0.05, abs=0.015)


def test_consent_is_withdrawn_only_after_it_was_granted(db: duckdb.DuckDBPyConnection) -> None:
    bad = _one(
        db,
        """
        select count(*) from consent_events w
        left join consent_events g
          on g.profile_id = w.profile_id and g.channel = w.channel and g.status = 'granted'
        where w.status = 'withdrawn' and (g.occurred_at is null or g.occurred_at >= w.occurred_at)
        """,
    )[0]
    assert bad == 0


# --- behaviour ----------------------------------------------------------------------------


def test_events_follow_the_funnel(db: duckdb.DuckDBPyConnection) -> None:
    per_profile = dict(
        db.execute(f"select event_type, count(*) / {N_PROFILES} from events group by 1").fetchall()
    )
    assert 14 < sum(per_profile.values()) < 27
    assert (
        per_profile["page_view"]
        > per_profile["product_view"]
        > per_profile["add_to_cart"]
        > per_profile["order"]
        > 0
    )
    bad_orders, bad_views = _one(
        db,
        """
        select count(*) filter (where event_type = 'order' and (order_id is null
                   or revenue <= 0 or quantity < 1 or product_id is null)),
               count(*) filter (where event_type = 'page_view' and (product_id is not null
                   or order_id is not null or revenue is not null))
        from events
        """,
    )
    assert (bad_orders, bad_views) == (0, 0)
    products = _one(db, "select count(distinct product_id) from events")[0]
    assert 300 < products <= 500


def test_activity_is_heavy_tailed_and_spend_has_big_spenders(
    db: duckdb.DuckDBPyConnection,
) -> None:
    median, p99 = _one(
        db,
        "select median(n), quantile_cont(n, 0.99) from "
        "(select profile_id, count(*) n from events group by 1)",
    )
    assert p99 > 10 * median
    top_decile_share = _one(
        db,
        """
        with spend as (select profile_id, sum(revenue) total from events
                       where event_type = 'order' group by 1),
             ranked as (select total, ntile(10) over (order by total desc) decile from spend)
        select sum(total) filter (where decile = 1) / sum(total) from ranked
        """,
    )[0]
    assert top_decile_share > 0.35


def test_every_demo_segment_has_members(db: duckdb.DuckDBPyConnection) -> None:
    abandoners = _one(
        db,
        """
        with carts as (
            select profile_id,
                   max(occurred_at) filter (where event_type = 'add_to_cart') last_cart,
                   max(occurred_at) filter (where event_type = 'order') last_order
            from events group by 1
        )
        select count(*) from carts
        where last_cart >= getvariable('now') - interval 24 hour
          and (last_order is null or last_order < last_cart)
        """,
    )[0]
    lapsed = _one(
        db,
        """
        select count(*) from (
            select profile_id from events where event_type = 'order'
            group by 1 having max(occurred_at) < getvariable('now') - interval 90 day
        )
        """,
    )[0]
    new_subscribers = _one(
        db,
        """
        select count(*) from profiles p join consent_events c using (profile_id)
        where c.channel = 'email' and c.status = 'granted'
          and p.created_at >= getvariable('now') - interval 7 day
        """,
    )[0]
    assert abandoners > 0.005 * N_PROFILES
    assert lapsed > 0.02 * N_PROFILES
    assert new_subscribers > 0.02 * N_PROFILES


# --- email history ------------------------------------------------------------------------


def test_campaigns_go_only_to_consenting_valid_addresses(db: duckdb.DuckDBPyConnection) -> None:
    campaigns, first_send = _one(
        db,
        "select count(distinct campaign_id), min(occurred_at) from message_events",
    )
    assert 10 <= campaigns <= 14
    assert first_send >= NOW - timedelta(days=181)
    unconsented = _one(
        db,
        """
        select count(*) from message_events m
        where m.event_type = 'sent' and not exists (
            select 1 from consent_events g
            where g.profile_id = m.profile_id and g.channel = 'email'
              and g.status = 'granted' and g.occurred_at <= m.occurred_at
              and not exists (
                  select 1 from consent_events w
                  where w.profile_id = g.profile_id and w.channel = 'email'
                    and w.status = 'withdrawn' and w.occurred_at <= m.occurred_at))
        """,
    )[0]
    assert unconsented == 0
    recipients = [
        r for (r,) in db.execute("select distinct recipient from message_events").fetchall()
    ]
    assert all(VALID_EMAIL.match(r) for r in recipients)
    mismatched = _one(
        db,
        "select count(*) from message_events m join profiles p using (profile_id) "
        "where m.recipient <> lower(trim(p.email))",
    )[0]
    assert mismatched == 0


def test_message_outcomes_have_realistic_rates(db: duckdb.DuckDBPyConnection) -> None:
    counts = dict(
        db.execute("select event_type, count(*) from message_events group by 1").fetchall()
    )
    sent = counts["sent"]
    assert counts["bounce"] / sent == pytest.approx(0.015, abs=0.004)
    assert counts["delivered"] + counts["bounce"] == sent
    assert 0.2 < counts["open"] / sent < 0.8
    assert 0.01 < counts["click"] / sent < 0.1
    assert counts.get("complaint", 0) / sent < 0.002
    assert counts.get("unsubscribe", 0) / sent == pytest.approx(0.002, abs=0.0015)
    hard, soft = _one(
        db,
        "select count(*) filter (where bounce_type = 'hard'), "
        "count(*) filter (where bounce_type = 'soft') from message_events where event_type = 'bounce'",  # noqa: E501
    )
    assert hard + soft == counts["bounce"] and 0.3 < hard / (hard + soft) < 0.7
    orphans = _one(
        db,
        """
        select count(*) from message_events e
        where e.event_type <> 'sent' and not exists (
            select 1 from message_events s
            where s.message_id = e.message_id and s.event_type = 'sent'
              and s.occurred_at < e.occurred_at)
        """,
    )[0]
    assert orphans == 0
    bad_fields = _one(
        db,
        """
        select count(*) from message_events
        where provider <> 'demo' or channel <> 'email'
           or (event_type = 'click') <> (url is not null)
           or (event_type = 'bounce') <> (bounce_type is not null)
        """,
    )[0]
    assert bad_fields == 0


def test_nobody_is_mailed_after_a_hard_bounce_complaint_or_unsubscribe(
    db: duckdb.DuckDBPyConnection,
) -> None:
    mailed_after = _one(
        db,
        """
        with stops as (
            select profile_id, min(occurred_at) stopped_at from message_events
            where event_type in ('complaint', 'unsubscribe') or bounce_type = 'hard'
            group by 1
        )
        select count(*) from message_events m join stops using (profile_id)
        where m.event_type = 'sent' and m.occurred_at > stops.stopped_at + interval 3 day
        """,
    )[0]
    assert mailed_after == 0


def test_opens_happen_at_each_profiles_preferred_local_hour(
    data: dict[str, pa.Table],
) -> None:
    zones = dict(
        zip(
            data["profiles"]["profile_id"].to_pylist(),
            data["profiles"]["time_zone"].to_pylist(),
            strict=True,
        )
    )
    opens = data["message_events"].filter(
        pa.compute.equal(data["message_events"]["event_type"], "open")
    )
    local_hours: dict[str, list[int]] = defaultdict(list)
    for row in opens.select(["profile_id", "occurred_at"]).to_pylist():
        zone = ZoneInfo(zones[row["profile_id"]])
        local_hours[row["profile_id"]].append(
            row["occurred_at"].replace(tzinfo=UTC).astimezone(zone).hour
        )
    preferred = preferred_open_hours(KeyedRandom(SEED), np.arange(N_PROFILES, dtype=np.int64))
    checked = matching = 0
    for profile_id, hours in local_hours.items():
        if len(hours) < 8:
            continue
        checked += 1
        modal = Counter(hours).most_common(1)[0][0]
        distance = abs(modal - int(preferred[int(profile_id[2:]) - 1]))
        matching += min(distance, 24 - distance) <= 1
    assert checked >= 50
    assert matching / checked > 0.9
    spread = Counter(int(h) for h in preferred)
    assert spread[8] + spread[20] > spread[3] * 10  # morning and evening peaks


# --- writing to the landing zone ----------------------------------------------------------


def test_write_demo_data_lands_readable_batches_that_match_the_summary(tmp_path: Path) -> None:
    landing = LocalLandingZone(tmp_path / "landing")
    progress: list[tuple[str, int]] = []
    summary = write_demo_data(
        landing, 1_500, seed=7, now=NOW, on_batch=lambda name, rows: progress.append((name, rows))
    )
    assert isinstance(summary, DemoDataSummary)
    files = landing.list()
    assert summary.files == len(files) == len(progress)
    assert summary.seconds > 0
    read_rows: Counter[str] = Counter()
    for landed in files:
        table = pq.read_table(tmp_path / "landing" / landed.key)
        assert table.schema.equals(DATASETS[landed.dataset].schema)
        read_rows[landed.dataset] += table.num_rows
    assert dict(read_rows) == summary.rows
    reported: Counter[str] = Counter()
    for name, rows in progress:
        reported[name] += rows
    assert dict(reported) == summary.rows
    assert summary.total_rows == sum(summary.rows.values())
    assert set(summary.rows) == DEMO_DATASETS


def test_a_failing_progress_callback_stops_the_generation_cleanly(tmp_path: Path) -> None:
    landing = LocalLandingZone(tmp_path / "landing")
    threads_before = threading.active_count()

    def progress_bar_breaks(name: str, rows: int) -> None:
        raise RuntimeError("terminal closed")

    with pytest.raises(RuntimeError, match="terminal closed"):
        write_demo_data(landing, 1_000, now=NOW, on_batch=progress_bar_breaks)
    assert len(landing.list()) == 1  # the batch written before the callback failed
    assert threading.active_count() == threads_before  # the generator thread has ended


def test_write_demo_data_reports_bad_input_without_writing(tmp_path: Path) -> None:
    landing = LocalLandingZone(tmp_path / "landing")
    with pytest.raises(ValueError, match="n_profiles must be a positive integer"):
        write_demo_data(landing, 0, now=NOW)
    assert landing.list() == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n_profiles": 0}, "n_profiles must be a positive integer"),
        ({"n_profiles": -5}, "n_profiles must be a positive integer"),
        ({"n_profiles": 10, "chunk_profiles": 0}, "chunk_profiles must be a positive integer"),
    ],
)
def test_bad_sizes_are_refused_with_a_clear_error(kwargs: dict[str, int], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        next(generate_demo_batches(now=NOW, **kwargs))


def test_now_must_be_a_datetime() -> None:
    with pytest.raises(TypeError, match="now must be a datetime"):
        next(generate_demo_batches(10, now="2025-06-01"))  # type: ignore[arg-type]


# --- scale --------------------------------------------------------------------------------


@pytest.mark.slow
def test_scale_smoke_200k_profiles() -> None:
    started = time.perf_counter()
    rows: Counter[str] = Counter()
    for name, table in generate_demo_batches(200_000, now=NOW):
        assert table.num_rows <= MAX_BATCH_ROWS
        rows[name] += table.num_rows
    seconds = time.perf_counter() - started
    total = sum(rows.values())
    print(f"\n200k profiles: {dict(rows)}; {total:,} rows in {seconds:.1f} s "
          f"({total / seconds:,.0f} rows/s)")  # fmt: skip
    assert rows["events"] > 15 * 200_000
