with

event_orders as (
    select * from {{ ref('int_orders_deduplicated') }}
),

shopify_orders as (
    select * from {{ ref('int_shopify_orders_deduplicated') }}
),

orders as (
    select
        profile_id,
        ordered_at,
        revenue
    from event_orders
    union all
    select
        profile_id,
        ordered_at,
        revenue
    from shopify_orders
    where is_counted and profile_id is not null
),

final as (
    select
        profile_id,
        count(*) as orders_count,
        cast(sum(revenue) as decimal(18, 2)) as lifetime_value,
        -- The mean in cents, rounded to the cent alike on every engine.
        {{ cents_to_money('cast(sum(revenue) * 100 as bigint) / count(*)') }}
            as average_order_value,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at
    from orders
    group by profile_id
)

select * from final
