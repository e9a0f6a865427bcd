with

orders as (
    select * from {{ ref('int_orders_deduplicated') }}
),

final as (
    select
        profile_id,
        count(*) as orders_count,
        cast(sum(revenue) as decimal(18, 2)) as lifetime_value,
        cast(sum(revenue) / count(*) as decimal(18, 2)) as average_order_value,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at
    from orders
    group by profile_id
)

select * from final
