with

message_events as (
    select * from {{ ref('message_events') }}
),

profiles as (
    select * from {{ ref('profiles') }}
),

window_bounds as (
    select
        {{ dbt.dateadd('day', -var('send_time_lookback_days'), as_of()) }} as window_start,
        {{ as_of() }} as window_end
),

engagements as (
    -- Aliased: ClickHouse names an unaliased qualified column after its qualifier too.
    select
        message_events.profile_id as profile_id,  -- noqa: AL09
        message_events.message_id as message_id,  -- noqa: AL09
        {{ local_hour('message_events.occurred_at', 'profiles.time_zone') }} as local_hour
    from message_events
    inner join profiles on message_events.profile_id = profiles.profile_id
    cross join window_bounds
    where
        message_events.event_type in ('open', 'click')
        and message_events.occurred_at >= window_bounds.window_start
        and message_events.occurred_at <= window_bounds.window_end
),

-- A message opened and clicked within the same hour is one engagement at that hour.
final as (
    select
        profile_id,
        local_hour,
        count(distinct message_id) as engagements
    from engagements
    group by profile_id, local_hour
)

select * from final
