with

events as (
    select * from {{ ref('events') }}
),

order_events as (
    select
        coalesce(order_id, event_id) as order_key,
        order_id,
        event_id,
        profile_id,
        occurred_at,
        coalesce(revenue, 0) as revenue,
        loaded_at
    from events
    where event_type = 'order'
),

ranked as (
    select
        *,
        -- A source may report one order in several events (e.g. an update): the latest
        -- report carries the revenue, the first one dates the order.
        min(occurred_at) over (partition by order_key) as ordered_at,
        row_number() over (
            partition by order_key
            order by occurred_at desc, event_id desc
        ) as report_rank
    from order_events
),

final as (
    select
        order_key,
        order_id,
        event_id,
        profile_id,
        ordered_at,
        revenue,
        loaded_at
    from ranked
    where report_rank = 1
)

select * from final
