with

profiles as (
    select * from {{ ref('profiles') }}
),

window_bounds as (
    select
        {{ dbt.dateadd('hour', -1 * var('cart_abandonment_window_hours'), as_of()) }}
            as window_start,
        {{ as_of() }} as window_end
),

-- An order at or after the latest add_to_cart converts it; an older order does not.
abandoners as (
    select profiles.*
    from profiles
    cross join window_bounds
    where
        profiles.last_add_to_cart_at >= window_bounds.window_start
        and profiles.last_add_to_cart_at <= window_bounds.window_end
        and (
            profiles.last_order_at is null
            or profiles.last_order_at < profiles.last_add_to_cart_at
        )
),

final as (
    select
        profile_id,
        email,
        phone,
        first_name,
        time_zone,
        last_add_to_cart_at as cart_added_at,
        last_order_at
    from abandoners
)

select * from final
