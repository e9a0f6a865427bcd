"""Quiet hours per time zone: the end of the window on the recipient's own clock, in UTC."""

from datetime import datetime, time

from activation.definition import QuietHours
from activation.quiet_hours import send_after_sql, window_end, window_ends

NIGHT = QuietHours(start=time(21, 0), end=time(8, 0))


def test_an_overnight_window_ends_at_the_next_local_morning():
    # 23:00 UTC is midnight in Paris (winter, UTC+1): the window ends at 08:00 Paris = 07:00 UTC.
    assert window_end(NIGHT, "Europe/Paris", datetime(2026, 1, 15, 23, 0)) == datetime(
        2026, 1, 16, 7, 0
    )
    # 06:00 UTC is 07:00 in Paris, still quiet: same morning.
    assert window_end(NIGHT, "Europe/Paris", datetime(2026, 1, 16, 6, 0)) == datetime(
        2026, 1, 16, 7, 0
    )
    # 10:00 in Sydney: outside the window, sent now.
    assert window_end(NIGHT, "Australia/Sydney", datetime(2026, 1, 15, 23, 0)) is None


def test_the_morning_after_a_daylight_saving_change_uses_the_new_offset():
    # Paris moves to UTC+2 at 01:00 UTC on 2026-03-29; at 22:00 UTC the day before it is
    # 23:00 (UTC+1), and 08:00 next morning is 06:00 UTC.
    assert window_end(NIGHT, "Europe/Paris", datetime(2026, 3, 28, 22, 0)) == datetime(
        2026, 3, 29, 6, 0
    )


def test_a_daytime_window_and_an_unknown_zone_on_utcs_clock():
    lunch = QuietHours(start=time(12, 0), end=time(14, 0))
    assert window_end(lunch, "UTC", datetime(2026, 1, 15, 13, 0)) == datetime(2026, 1, 15, 14)
    assert window_end(lunch, "Mars/Olympus", datetime(2026, 1, 15, 13, 0)) == datetime(
        2026, 1, 15, 14
    )


def test_only_zones_that_differ_from_the_fallback_get_a_branch():
    ends, fallback = window_ends(
        NIGHT, ["UTC", "Etc/GMT-1", "Australia/Sydney"], datetime(2026, 1, 15, 23, 0)
    )
    assert fallback == datetime(2026, 1, 16, 8, 0)
    assert ends == {"Etc/GMT-1": datetime(2026, 1, 16, 7, 0), "Australia/Sydney": None}
    sql = send_after_sql(ends, fallback, "r.time_zone")
    assert sql == (
        "case r.time_zone when 'Australia/Sydney' then $now "
        "when 'Etc/GMT-1' then timestamp '2026-01-16 07:00:00.000000' "
        "else timestamp '2026-01-16 08:00:00.000000' end"
    )
