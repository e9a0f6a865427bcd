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
        {{ cents_to_money('revenue * 100') }} as revenue,
        quantity,
        source,
        _landing_key as landing_key,
        _loaded_at as loaded_at
    from raw_events
)

select * from renamed
