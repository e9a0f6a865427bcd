with

events as (
    select * from {{ ref('stg_raw__events') }}
),

ranked as (
    select
        *,
        -- The copy loaded last wins, as in the incremental events mart (delete+insert).
        row_number() over (
            partition by event_id
            order by loaded_at desc, landing_key desc
        ) as copy_rank
    from events
),

final as (
    select
        event_id,
        profile_id,
        event_type,
        occurred_at,
        product_id,
        order_id,
        revenue,
        quantity,
        source,
        landing_key,
        loaded_at
    from ranked
    where copy_rank = 1
)

select * from final
