with

raw_consent_events as (
    select * from {{ source('raw', 'consent_events') }}
),

renamed as (
    select
        consent_event_id,
        profile_id,
        lower(trim(channel)) as channel,
        lower(trim(status)) as status,
        occurred_at,
        source,
        _landing_key as landing_key,
        _loaded_at as loaded_at
    from raw_consent_events
)

select * from renamed
