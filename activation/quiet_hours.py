"""When a recipient's quiet hours end, per time zone, for the plan's `send_after`.

A recipient's send time depends only on their time zone and the plan's `now`: now, or the
end of the quiet window on their own clock. So it is worked out once per distinct zone, in
Python with the IANA database (daylight-saving changes included), and the plan reads it as
a `case` over the zone column. The warehouses do not agree on time zone arithmetic with a
zone taken from a column (ClickHouse ties a zone to a column's type, not to a row's value),
and a few hundred zones at most are no work to move.

A zone name the IANA database does not know gets UTC's window: the recipient is still
protected, if on the wrong clock, and the profiles mart already nulls unknown zones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from activation.definition import QuietHours

FALLBACK_ZONE = "UTC"


def zone_info(name: str) -> ZoneInfo:
    """The IANA zone `name`, or UTC's when the database does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FALLBACK_ZONE)


def window_end(quiet: QuietHours, zone: str, now: datetime) -> datetime | None:
    """The end of the quiet window `now` (naive UTC) falls in, on `zone`'s clock, as naive
    UTC; None when `now` is outside the window there."""
    tz = zone_info(zone)
    local = now.replace(tzinfo=UTC).astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if quiet.start > quiet.end:  # overnight, e.g. 21:00-08:00
        if not (clock >= quiet.start or clock < quiet.end):
            return None
        day = local.date() + timedelta(days=1) if clock >= quiet.start else local.date()
    else:
        if not (quiet.start <= clock < quiet.end):
            return None
        day = local.date()
    end = datetime.combine(day, quiet.end, tzinfo=tz)
    return end.astimezone(UTC).replace(tzinfo=None)


def window_ends(
    quiet: QuietHours, zones: Iterable[str], now: datetime
) -> tuple[dict[str, datetime | None], datetime | None]:
    """Per zone, where it differs from the fallback, the window's end (None: send now);
    and the fallback's, for zones not listed."""
    fallback = window_end(quiet, FALLBACK_ZONE, now)
    ends = {zone: window_end(quiet, zone, now) for zone in zones}
    return {zone: end for zone, end in ends.items() if end != fallback}, fallback


def send_after_sql(
    ends: Mapping[str, datetime | None], fallback: datetime | None, zone_column: str
) -> str:
    """`send_after` as SQL: each zone's window end, `$now` for zones outside their window."""

    def moment(end: datetime | None) -> str:
        return "$now" if end is None else f"timestamp '{end:%Y-%m-%d %H:%M:%S.%f}'"

    if not ends:
        return moment(fallback)
    cases = " ".join(
        "when '" + zone.replace("'", "''") + f"' then {moment(end)}"
        for zone, end in sorted(ends.items())
    )
    return f"case {zone_column} {cases} else {moment(fallback)} end"
