with

events as (
    select * from {{ ref('events') }}
),

final as (
    select
        profile_id,
        count(*) as events_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        max(case when event_type = 'page_view' then occurred_at end) as last_page_view_at,
        max(case when event_type = 'product_view' then occurred_at end) as last_product_view_at,
        max(case when event_type = 'add_to_cart' then occurred_at end) as last_add_to_cart_at,
        max(case when event_type = 'order' then occurred_at end) as last_order_event_at
    from events
    group by profile_id
)

select * from final
