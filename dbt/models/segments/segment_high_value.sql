with

profiles as (
    select * from {{ ref('profiles') }}
),

customers as (
    select
        *,
        -- Share of paying customers whose lifetime value is at least this one's (ties count
        -- together, so equal customers are all in or all out).
        cume_dist() over (order by lifetime_value desc) as lifetime_value_top_share
    from profiles
    where lifetime_value > 0
),

high_value_customers as (
    select
        *,
        case
            when lifetime_value >= {{ var('high_value_min_lifetime_value') }}
                then 'lifetime_value_threshold'
            else 'top_lifetime_value_share'
        end as membership_reason
    from customers
    where
        lifetime_value >= {{ var('high_value_min_lifetime_value') }}
        or lifetime_value_top_share <= {{ var('high_value_top_share') }}
),

final as (
    select
        profile_id,
        email,
        phone,
        first_name,
        time_zone,
        lifetime_value,
        cast(lifetime_value_top_share as double) as lifetime_value_top_share,
        orders_count,
        last_order_at,
        membership_reason
    from high_value_customers
)

select * from final
