with

raw_events as (
    select * from {{ source('raw', 'events') }}
),

renamed as (
    select
        event_id,
        profile_id,
        lower(trim(event_type)) as event_type,
        occurred_at,
        product_id,
        order_id,
        cast(revenue as decimal(18, 2)) as revenue,
        quantity,
        source,
        _landing_key as landing_key,
        _loaded_at as loaded_at
    from raw_events
)

select * from renamed
