"""The demo generator's building blocks: the zone offset table against zoneinfo itself, the
id formatter, and the keyed random numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from connectors.sources.demo_local_time import SECOND_US, ZoneOffsets, utc_microseconds
from connectors.sources.demo_random import KeyedRandom, item_keys
from connectors.sources.demo_strings import digits, fixed_ids
from connectors.sources.demo_world import ZONES

START = datetime(2023, 1, 1)
END = datetime(2025, 7, 1)


@pytest.fixture(scope="module")
def offsets() -> ZoneOffsets:
    return ZoneOffsets(ZONES, utc_microseconds(START), utc_microseconds(END))


def _zoneinfo_local(zone: str, utc_us: int) -> datetime:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=utc_us)
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def test_offsets_agree_with_zoneinfo_everywhere_including_dst_changes(
    offsets: ZoneOffsets,
) -> None:
    rng = np.random.default_rng(0)
    start, end = utc_microseconds(START), utc_microseconds(END)
    # Random instants, plus every quarter hour around the 2024 spring and autumn changes
    # (northern and southern hemisphere, whole and half-hour zones).
    instants = list(rng.integers(start, end, 400))
    for day in ("2024-03-10", "2024-03-31", "2024-04-07", "2024-10-06", "2024-10-27", "2024-11-03"):
        base = utc_microseconds(datetime.fromisoformat(day))
        instants += [base + q * 15 * 60 * SECOND_US for q in range(-8, 104)]
    utc = np.asarray(instants, dtype=np.int64)
    for code, zone in enumerate(ZONES):
        local = offsets.to_local(np.full(utc.size, code), utc)
        expected = [_zoneinfo_local(zone, int(u)) for u in utc]
        got = [datetime(1970, 1, 1) + timedelta(microseconds=int(v)) for v in local]
        assert got == expected, zone


def test_local_wall_time_converts_back_to_utc(offsets: ZoneOffsets) -> None:
    zone = ZONES.index("Australia/Adelaide")
    wall = datetime(2024, 7, 15, 8, 30)  # winter: UTC+9:30
    utc = offsets.to_utc(np.asarray([zone]), np.asarray([utc_microseconds(wall)]))
    assert datetime(1970, 1, 1) + timedelta(microseconds=int(utc[0])) == datetime(2024, 7, 14, 23)


def test_instants_outside_the_table_are_refused(offsets: ZoneOffsets) -> None:
    outside = np.asarray([utc_microseconds(END + timedelta(days=30))])
    with pytest.raises(ValueError, match="outside the window"):
        offsets.to_local(np.asarray([0]), outside)


def test_utc_microseconds_accepts_naive_utc_and_aware_datetimes() -> None:
    naive = datetime(2025, 6, 1, 12, 0, 0, 5)
    aware = datetime(2025, 6, 1, 14, 0, 0, 5, tzinfo=ZoneInfo("Europe/Berlin"))
    assert utc_microseconds(naive) == utc_microseconds(aware) == 1_748_779_200_000_005


def test_fixed_ids_pad_numbers_and_append_suffixes() -> None:
    profile = np.asarray([1, 42, 9_999_999], dtype=np.int64)
    ids = fixed_ids(
        ["ce_", digits(profile, 7)],
        3,
        suffixes=["_email_granted", "_sms", ""],
        suffix_codes=np.asarray([0, 1, 2]),
    )
    assert ids.to_pylist() == ["ce_0000001_email_granted", "ce_0000042_sms", "ce_9999999"]
    odd_width = fixed_ids(["x", digits(np.asarray([7, 123]), 3)], 2)
    assert odd_width.to_pylist() == ["x007", "x123"]


def test_a_number_too_wide_for_its_field_is_an_error() -> None:
    with pytest.raises(ValueError, match="does not fit in a 2-digit"):
        digits(np.asarray([100]), 2)


def test_keyed_draws_depend_only_on_seed_stream_and_key() -> None:
    keys = item_keys(np.arange(100_000, dtype=np.int64))
    u = KeyedRandom(1).uniform("x", keys)
    assert np.array_equal(u[500:600], KeyedRandom(1).uniform("x", keys[500:600]))
    assert not np.array_equal(u, KeyedRandom(2).uniform("x", keys))
    assert not np.array_equal(u, KeyedRandom(1).uniform("y", keys))
    assert u.min() > 0 and u.max() < 1
    assert u.mean() == pytest.approx(0.5, abs=0.005)
    assert np.histogram(u, bins=10)[0].min() > 9_500  # flat
    assert abs(np.corrcoef(u, KeyedRandom(1).uniform("y", keys))[0, 1]) < 0.01
    picks = KeyedRandom(1).choice("c", keys, [1, 3])
    assert picks.mean() == pytest.approx(0.75, abs=0.01)
