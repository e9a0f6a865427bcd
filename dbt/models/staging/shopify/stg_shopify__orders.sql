with

raw_orders as (
    select * from {{ source('shopify', 'shopify_orders') }}
),

renamed as (
    select
        shop,
        order_id,
        customer_id,
        nullif(lower(trim(email)), '') as email,
        currency,
        {{ cents_to_money('total_price * 100') }} as total_price,
        financial_status,
        coalesce(is_test, false) as is_test,
        processed_at,
        cancelled_at,
        created_at,
        updated_at,
        _landing_key as landing_key,
        _loaded_at as loaded_at
    from raw_orders
)

select * from renamed
