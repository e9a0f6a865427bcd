{{
    config(
        materialized='incremental',
        unique_key='profile_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

with

message_events as (
    select * from {{ ref('message_events') }}
),

all_email_events as (
    select
        profile_id,
        message_id,
        event_type,
        occurred_at
    from message_events
    where
        channel = 'email'
        and profile_id is not null
),

-- 90 days is part of the column names, so it is a constant rather than a var.
window_bounds as (
    select
        {{ dbt.dateadd('day', -90, as_of()) }} as window_start,
        {{ as_of() }} as window_end
),

{% if is_incremental_with_marks() %}
-- A profile's figures change when an email event of theirs arrives, or when one of their
-- events enters or leaves the 90-day window because `as_of` moved. After every build the
-- table holds the figures at that build's `as_of`, the newest `computed_as_of`, so the
-- events that changed sides are those in or out of the window at one instant but not the
-- other. If `as_of` moved back (a backfill), every profile is counted again, so that the
-- newest `computed_as_of` is again the one the whole table holds.
previous_build as (
    select max(computed_as_of) as as_of
    from {{ this }}
),

changed_profiles as (
    select new_events.profile_id
    from message_events as new_events
    where
        {{ loaded_after_last_build('new_events') }}
        and new_events.channel = 'email'
        and new_events.profile_id is not null
    union all
    select all_email_events.profile_id
    from all_email_events
    cross join previous_build
    cross join window_bounds
    where
        window_bounds.window_end < previous_build.as_of
        or (
            all_email_events.occurred_at >= {{ dbt.dateadd('day', -90, 'previous_build.as_of') }}
            and all_email_events.occurred_at <= previous_build.as_of
        )
        != (
            all_email_events.occurred_at >= window_bounds.window_start
            and all_email_events.occurred_at <= window_bounds.window_end
        )
),
{% endif %}

email_events as (
    select
        all_email_events.profile_id,
        all_email_events.message_id,
        all_email_events.event_type,
        all_email_events.occurred_at,
        (
            all_email_events.occurred_at >= window_bounds.window_start
            and all_email_events.occurred_at <= window_bounds.window_end
        ) as is_in_window
    from all_email_events
    cross join window_bounds
    {% if is_incremental_with_marks() %}
        where all_email_events.profile_id in (
            select changed_profiles.profile_id from changed_profiles
        )
    {% endif %}
),

-- Counts are of distinct messages (an email opened three times counts once).
final as (
    select
        profile_id,
        count(distinct case when is_in_window and event_type = 'sent' then message_id end)
            as email_sends_90d,
        count(distinct case when is_in_window and event_type = 'delivered' then message_id end)
            as email_deliveries_90d,
        count(distinct case when is_in_window and event_type = 'open' then message_id end)
            as email_opens_90d,
        count(distinct case when is_in_window and event_type = 'click' then message_id end)
            as email_clicks_90d,
        max(case when event_type = 'open' then occurred_at end) as last_email_open_at,
        max(case when event_type = 'click' then occurred_at end) as last_email_click_at,
        {{ as_of() }} as computed_as_of,
        {{ newest_loaded_at(ref('message_events')) }} as inputs_loaded_through
    from email_events
    group by profile_id
)

select * from final
