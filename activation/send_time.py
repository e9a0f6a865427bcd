"""When a planned message may go out, before quiet hours: now, or the recipient's best hour.

With `send_time: recommended` each recipient waits for the next time their own wall clock
shows the hour `analytics.send_time_recommendations` recommends (today if that hour is still
to come, tomorrow otherwise, now if it is that hour already). The local moment is converted
back to UTC in the recipient's zone, so across a daylight-saving change the message still
goes at the local hour, not 24 hours after the previous one. A profile the model has not
seen yet (created since the last build) gets the population's hour. Quiet hours apply after.
Both are worked out in Python per time zone and hour, so the plan's SQL runs the same on
every engine (see `recommended_send_after_sql`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta

from activation.definition import ActivationDefinition, QuietHours, SendTime
from activation.quiet_hours import FALLBACK_ZONE, window_end, zone_info
from connectors.destinations.message import Channel
from connectors.warehouse.base import WarehouseSession

RECOMMENDATIONS = "analytics.send_time_recommendations"


def uses_recommendations(definition: ActivationDefinition) -> bool:
    return definition.send_time is SendTime.RECOMMENDED


def deferred_reason(definition: ActivationDefinition) -> str:
    """The non-final exclusion reason of a message that waits for its send time."""
    return "send_time_deferred" if uses_recommendations(definition) else "quiet_hours_deferred"


def missing_recommendations(
    session: WarehouseSession, definition: ActivationDefinition
) -> str | None:
    """Why the activation cannot be planned yet (its recommendations are not built), or None."""
    if uses_recommendations(definition) and not session.table_exists(
        *RECOMMENDATIONS.split(".", 1)
    ):
        return (
            f"activation {definition.name!r} sends at each recipient's recommended time, but "
            f"{RECOMMENDATIONS} has not been built yet; run `tidemark build` first "
            "(or use send_time 'immediate')"
        )
    return None


def population_hour(session: WarehouseSession, definition: ActivationDefinition) -> int | None:
    """The population's hour (for recipients the model has not seen), or None when unused."""
    if not uses_recommendations(definition):
        return None
    hour = (
        session.query_arrow(
            f"select min(population_hour) as population_hour from {RECOMMENDATIONS}"
        )
        .column("population_hour")[0]
        .as_py()
    )
    return None if hour is None else int(hour)


def recommendations_join(definition: ActivationDefinition, profile_id: str) -> str:
    """The join that brings each recipient's recommendation in as `st` (nothing when unused).

    A join rather than a correlated subquery: ClickHouse does not correlate subqueries."""
    if not uses_recommendations(definition):
        return ""
    return f"left join {RECOMMENDATIONS} as st on st.profile_id = {profile_id}"


def recommended_hour_sql(definition: ActivationDefinition, fallback_hour: int | None) -> str:
    """The recipient's recommended local hour, the population's when the model has not seen
    them (null when the activation does not use one, or nothing was built)."""
    if not uses_recommendations(definition):
        return "cast(null as integer)"
    fallback = "cast(null as integer)" if fallback_hour is None else str(int(fallback_hour))
    return f"cast(coalesce(st.recommended_hour, {fallback}) as integer)"


def next_local_hour(zone: str, hour: int, now: datetime) -> datetime:
    """The next moment (naive UTC) `zone`'s wall clock shows `hour`:00, or `now` in that hour.

    The local moment is converted back to UTC in the zone, so across a daylight-saving
    change the hour is still the local one. An unknown zone is UTC (as quiet hours take it).
    """
    tz = zone_info(zone)
    local = now.replace(tzinfo=UTC).astimezone(tz)
    if hour == local.hour:
        return now
    day = local.date() if hour > local.hour else local.date() + timedelta(days=1)
    target = datetime.combine(day, time(hour), tzinfo=tz)
    return target.astimezone(UTC).replace(tzinfo=None)


def send_moments(zone: str, now: datetime, quiet: QuietHours | None) -> tuple[datetime | None, ...]:
    """Per recommended hour 0-23, when a recipient in `zone` is sent to (naive UTC): the next
    local hour, moved to the end of the quiet window it falls in; None for `now` itself."""
    moments = []
    for hour in range(24):
        moment = next_local_hour(zone, hour, now)
        end = window_end(quiet, zone, moment) if quiet is not None else None
        chosen = end or moment
        moments.append(None if chosen == now else chosen)
    return tuple(moments)


def recommended_send_after_sql(
    definition: ActivationDefinition,
    zones: Iterable[str],
    now: datetime,
    immediate: str,
    hour: str = "r.recommended_hour",
    zone_column: str = "r.time_zone",
) -> str:
    """`send_after` as SQL for `send_time: recommended`, over rows with `hour` and `zone_column`.

    The moment depends only on the recipient's zone and hour and the plan's `now`, so it is
    worked out in Python per zone the profiles hold (the warehouses disagree on time zone
    arithmetic with a zone read from a row; ClickHouse cannot do it at all) and the SQL is a
    `case` over literal moments. Zones with the same 24 moments share one branch, so the
    statement grows with the distinct offsets, not with the zones. A row without an hour
    (nothing built) is sent as `immediate` says (now, or when its quiet hours end).
    """
    quiet = definition.quiet_hours if definition.channel is not Channel.WEBHOOK else None
    fallback = send_moments(FALLBACK_ZONE, now, quiet)
    groups: dict[tuple[datetime | None, ...], list[str]] = {}
    for zone in sorted(set(zones)):
        moments = send_moments(zone, now, quiet)
        if moments != fallback:
            groups.setdefault(moments, []).append(zone)

    def by_hour(moments: tuple[datetime | None, ...]) -> str:
        cases = " ".join(f"when {h} then {_moment_sql(m)}" for h, m in enumerate(moments))
        return f"case {hour} {cases} end"

    branches = " ".join(
        f"when {zone_column} in ({', '.join(_quoted(z) for z in zones_)}) then {by_hour(moments)}"
        for moments, zones_ in groups.items()
    )
    return f"case when {hour} is null then {immediate} {branches} else {by_hour(fallback)} end"


def _moment_sql(moment: datetime | None) -> str:
    return "$now" if moment is None else f"timestamp '{moment:%Y-%m-%d %H:%M:%S.%f}'"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
