with

message_events as (
    select * from {{ ref('stg_raw__message_events') }}
),

ranked as (
    select
        *,
        -- The copy loaded last wins, as in the incremental message_events mart.
        row_number() over (
            partition by message_event_id
            order by loaded_at desc, landing_key desc
        ) as copy_rank
    from message_events
),

final as (
    select
        message_event_id,
        message_id,
        profile_id,
        channel,
        event_type,
        occurred_at,
        provider,
        recipient,
        campaign_id,
        bounce_type,
        url,
        landing_key,
        loaded_at
    from ranked
    where copy_rank = 1
)

select * from final
