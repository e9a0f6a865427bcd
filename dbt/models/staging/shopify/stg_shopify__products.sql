with

raw_products as (
    select * from {{ source('shopify', 'shopify_products') }}
),

renamed as (
    select
        shop,
        product_id,
        nullif(trim(title), '') as title,
        nullif(trim(vendor), '') as vendor,
        nullif(trim(product_type), '') as product_type,
        handle,
        created_at,
        updated_at,
        _landing_key as landing_key,
        _loaded_at as loaded_at
    from raw_products
)

select * from renamed
