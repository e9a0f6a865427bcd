"""When a planned message may go out, before quiet hours: now, or the recipient's best hour.

With `send_time: recommended` each recipient waits for the next time their own wall clock
shows the hour `analytics.send_time_recommendations` recommends (today if that hour is still
to come, tomorrow otherwise, now if it is that hour already). The local moment is converted
back to UTC in the recipient's zone, so across a daylight-saving change the message still
goes at the local hour, not 24 hours after the previous one. A profile the model has not
seen yet (created since the last build) gets the population's hour. Quiet hours apply after.
"""

from __future__ import annotations

from activation.definition import ActivationDefinition, SendTime
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


def recommended_hour_sql(definition: ActivationDefinition, profile_id: str) -> str:
    """The recipient's recommended local hour (null when the activation does not use one)."""
    if not uses_recommendations(definition):
        return "cast(null as integer)"
    return f"""coalesce(
                   (select st.recommended_hour from {RECOMMENDATIONS} as st
                    where st.profile_id = {profile_id}),
                   (select min(st.population_hour) from {RECOMMENDATIONS} as st)
               )"""


def send_moment_sql(definition: ActivationDefinition, hour: str, time_zone: str) -> str:
    """`send_after` before quiet hours, naive UTC: `$now` or the next local `hour`."""
    if not uses_recommendations(definition):
        return "$now"
    local_now = f"(($now at time zone 'UTC') at time zone {time_zone})"
    local_hour = f"extract(hour from {local_now})"
    local_target = (
        f"(date_trunc('day', {local_now}) + to_hours(cast({hour} as bigint)) "
        f"+ case when {hour} < {local_hour} then interval '1 day' else interval '0 days' end)"
    )
    utc_target = f"(({local_target} at time zone {time_zone}) at time zone 'UTC')"
    return f"(case when {hour} is null or {hour} = {local_hour} then $now else {utc_target} end)"
