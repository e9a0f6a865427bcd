with

raw_message_events as (
    select * from {{ source('raw', 'message_events') }}
),

renamed as (
    select
        message_event_id,
        message_id,
        profile_id,
        lower(trim(channel)) as channel,
        lower(trim(event_type)) as event_type,
        occurred_at,
        lower(trim(provider)) as provider,
        case
            when lower(trim(channel)) = 'email' then nullif(lower(trim(recipient)), '')
            else nullif(trim(recipient), '')
        end as recipient,
        campaign_id,
        lower(trim(bounce_type)) as bounce_type,
        url,
        _landing_key as landing_key,
        _loaded_at as loaded_at
    from raw_message_events
)

select * from renamed
