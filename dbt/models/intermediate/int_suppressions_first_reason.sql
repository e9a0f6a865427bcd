with

message_events as (
    select * from {{ ref('message_events') }}
),

profiles as (
    select * from {{ ref('int_profiles_deduplicated') }}
),

suppressing_events as (
    select
        message_event_id,
        message_id,
        profile_id,
        channel,
        recipient,
        provider,
        occurred_at,
        case
            when event_type = 'complaint' then 'complaint'
            when event_type = 'unsubscribe' then 'unsubscribe'
            else 'hard_bounce'
        end as reason
    from message_events
    where
        event_type in ('complaint', 'unsubscribe')
        or (event_type = 'bounce' and bounce_type = 'hard')
),

-- Providers name the recipient; our own unsubscribe link may only know the profile, whose
-- current address on the channel is then the one suppressed.
addressed as (
    select
        suppressing_events.*,
        coalesce(
            suppressing_events.recipient,
            case
                when suppressing_events.channel = 'email' then profiles.email
                when suppressing_events.channel = 'sms' then profiles.phone
            end
        ) as address
    from suppressing_events
    left join profiles
        on suppressing_events.profile_id = profiles.profile_id
),

ranked as (
    select
        *,
        count(*) over (partition by channel, address) as suppressing_events_count,
        row_number() over (
            partition by channel, address
            order by occurred_at asc, message_event_id asc
        ) as occurrence_rank
    from addressed
    where address is not null
),

final as (
    select
        channel,
        address,
        reason,
        occurred_at as suppressed_at,
        profile_id,
        message_id,
        provider,
        suppressing_events_count
    from ranked
    where occurrence_rank = 1
)

select * from final
