"""`analytics.send_time_recommendations` on a generated history whose answer is known.

Profiles in five time zones (three with daylight saving time, one in each hemisphere) open
mail at a preferred local hour over a whole year, so their opens cross DST changes in UTC;
a crowd prefers 19:00, so that is the population's hour. Profiles with a strong habit must get
their own hour; one stray open is outvoted by the prior; no history gets the population hour.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.dbt.test_dbt_project import (
    create_warehouse,
    failures,
    land,
    message_event,
    profile,
    query,
    run_dbt_build,
)

pytestmark = pytest.mark.slow

AS_OF = datetime(2024, 12, 31, 12, 0, 0)
ZONES = ("America/New_York", "Europe/Paris", "Australia/Sydney", "Asia/Kolkata", "UTC")
CROWD_HOUR = 19
HABIT_OPENS = 8
"""Opens at the preferred hour per strong profile, every ~33 days over the year."""
STRAY_OPENS = 2
"""Opens at other hours per strong profile: noise the habit must outvote."""


def local_open(zone: str, day: datetime, hour: int, minute: int) -> datetime:
    """The UTC instant (naive) of `hour:minute` on `day`'s date on `zone`'s wall clock."""
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def generated_history() -> tuple[list[dict], list[dict], dict[str, int | None]]:
    """(profiles, message events, expected hour per profile or None for 'the population's')."""
    rng = random.Random(20241231)
    profiles, events, expected = [], [], {}

    def opens(profile_id: str, zone: str, hours: list[int]) -> None:
        for number, hour in enumerate(hours):
            day = AS_OF - timedelta(days=5 + 33 * number + rng.randrange(3))
            at = local_open(zone, day, hour, rng.randrange(60))
            event_id = f"{profile_id}-{number}"
            events.append(message_event(event_id, profile_id, "open", str(at)))

    for index in range(60):
        zone = ZONES[index % len(ZONES)]
        kind = ("strong", "crowd", "stray", "none")[index % 4]
        profile_id = f"{kind}-{index}"
        profiles.append(profile(profile_id, "2024-01-01 00:00:00", time_zone=zone))
        if kind == "strong":
            hour = rng.choice([h for h in range(6, 23) if h != CROWD_HOUR])
            others = [rng.choice([h for h in range(24) if h != hour]) for _ in range(STRAY_OPENS)]
            opens(profile_id, zone, [hour] * HABIT_OPENS + others)
            expected[profile_id] = hour
        elif kind == "crowd":
            opens(profile_id, zone, [CROWD_HOUR] * HABIT_OPENS)
            expected[profile_id] = CROWD_HOUR
        elif kind == "stray":
            opens(profile_id, zone, [3])
            expected[profile_id] = None
        else:
            expected[profile_id] = None
    return profiles, events, expected


def test_strong_habits_get_their_hour_and_thin_or_no_history_the_population_hour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    create_warehouse(warehouse)
    profiles, events, expected = generated_history()
    land(warehouse, "profiles", profiles, landing_key="profiles/1", loaded_at="2024-12-31 00:00")
    land(warehouse, "message_events", events, landing_key="messages/1", loaded_at="2024-12-31")

    result = run_dbt_build(
        warehouse,
        tmp_path,
        monkeypatch,
        dbt_vars={"as_of": str(AS_OF)},
        extra_args=["--select", "+send_time_recommendations", "--exclude", "path:models/segments"],
    )

    assert result.success, failures(result)
    rows = query(
        warehouse,
        "select profile_id, recommended_hour, population_hour, events_used, has_history, "
        "confidence from analytics.send_time_recommendations",
    )
    found = {r[0]: r for r in rows}
    assert set(found) == set(expected)
    assert {r[2] for r in rows} == {CROWD_HOUR}
    for profile_id, hour in expected.items():
        _, recommended, population_hour, events_used, has_history, confidence = found[profile_id]
        assert recommended == (population_hour if hour is None else hour), profile_id
        assert 0 < confidence <= 1
        if profile_id.startswith("strong"):
            assert events_used == HABIT_OPENS + STRAY_OPENS
            assert confidence > 0.5, (profile_id, confidence)
        if profile_id.startswith("none"):
            assert (events_used, has_history) == (0, False)
        if profile_id.startswith("stray"):
            assert (events_used, has_history) == (1, True)
