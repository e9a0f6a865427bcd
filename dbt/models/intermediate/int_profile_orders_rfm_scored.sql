with

customers as (
    select * from {{ ref('int_profile_orders_aggregated') }}
),

ranked as (
    select
        *,
        ntile(5) over (order by last_order_at asc, profile_id asc) as recency_ntile,
        ntile(5) over (order by orders_count asc, profile_id asc) as frequency_ntile,
        ntile(5) over (order by lifetime_value asc, profile_id asc) as monetary_ntile
    from customers
),

-- ntile splits ties arbitrarily; customers with the same value share the lowest score of
-- their tie group so that equal behaviour always gets an equal score.
scored as (
    select
        *,
        min(recency_ntile) over (partition by last_order_at) as recency_score,
        min(frequency_ntile) over (partition by orders_count) as frequency_score,
        min(monetary_ntile) over (partition by lifetime_value) as monetary_score
    from ranked
),

final as (
    select
        profile_id,
        orders_count,
        lifetime_value,
        average_order_value,
        first_order_at,
        last_order_at,
        cast(recency_score as integer) as recency_score,
        cast(frequency_score as integer) as frequency_score,
        cast(monetary_score as integer) as monetary_score,
        case
            when recency_score >= 4 and frequency_score >= 4 then 'champions'
            when orders_count = 1 and recency_score >= 4 then 'new'
            when frequency_score >= 4 and recency_score = 3 then 'loyal'
            when recency_score <= 2 and frequency_score >= 3 then 'at_risk'
            when recency_score <= 2 then 'hibernating'
            else 'needs_attention'
        end as rfm_segment
    from scored
)

select * from final
