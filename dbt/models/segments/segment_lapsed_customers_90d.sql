with

profiles as (
    select * from {{ ref('profiles') }}
),

window_bounds as (
    select
        {{ dbt.dateadd('day', -1 * var('lapsed_customer_after_days'), as_of()) }}
            as window_start
),

-- An order exactly at the window start is still "within the last 90 days".
lapsed_customers as (
    select profiles.*
    from profiles
    cross join window_bounds
    where
        profiles.orders_count > 0
        and profiles.last_order_at < window_bounds.window_start
),

final as (
    select
        profile_id,
        email,
        phone,
        first_name,
        time_zone,
        last_order_at,
        days_since_last_order,
        orders_count,
        lifetime_value
    from lapsed_customers
)

select * from final
