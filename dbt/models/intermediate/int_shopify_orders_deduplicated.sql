with

order_versions as (
    select * from {{ ref('stg_shopify__orders') }}
),

ranked as (
    select
        *,
        -- Newest updated_at wins; on a tie the copy loaded last (a sync repeats the boundary
        -- record of the previous one).
        row_number() over (
            partition by shop, order_id
            order by updated_at desc, loaded_at desc, landing_key desc
        ) as version_rank
    from order_versions
),

final as (
    select
        shop,
        order_id,
        customer_id,
        -- Shopify customers are profiles under this id (see int_shopify_customers_deduplicated).
        case when customer_id is not null then 'shopify:' || customer_id end as profile_id,
        coalesce(processed_at, created_at) as ordered_at,
        total_price as revenue,
        currency,
        financial_status,
        -- What counts towards lifetime value: real orders that were neither cancelled nor
        -- voided or refunded in full.
        (
            not is_test
            and cancelled_at is null
            and coalesce(financial_status, '') not in ('voided', 'refunded')
        ) as is_counted,
        updated_at
    from ranked
    where version_rank = 1
)

select * from final
