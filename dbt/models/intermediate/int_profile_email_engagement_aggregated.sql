with

message_events as (
    select * from {{ ref('message_events') }}
),

-- 90 days is part of the column names, so it is a constant rather than a var.
window_bounds as (
    select
        {{ dbt.dateadd('day', -90, as_of()) }} as window_start,
        {{ as_of() }} as window_end
),

email_events as (
    select
        message_events.profile_id,
        message_events.message_id,
        message_events.event_type,
        message_events.occurred_at,
        (
            message_events.occurred_at >= window_bounds.window_start
            and message_events.occurred_at <= window_bounds.window_end
        ) as is_in_window
    from message_events
    cross join window_bounds
    where
        message_events.channel = 'email'
        and message_events.profile_id is not null
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
        max(case when event_type = 'click' then occurred_at end) as last_email_click_at
    from email_events
    group by profile_id
)

select * from final
