with

customer_versions as (
    select * from {{ ref('stg_shopify__customers') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by shop, customer_id
            order by updated_at desc, loaded_at desc, landing_key desc
        ) as version_rank
    from customer_versions
),

final as (
    select
        -- A Shopify customer is a profile of its own, keyed apart from other sources' ids;
        -- identity resolution across sources (by email, say) is not attempted here.
        'shopify:' || customer_id as profile_id,
        shop,
        customer_id,
        email,
        phone,
        first_name,
        last_name,
        country,
        cast(null as varchar) as time_zone,
        accepts_marketing,
        accepts_marketing_updated_at,
        email_marketing_state,
        email_marketing_consent_updated_at,
        sms_marketing_state,
        sms_marketing_consent_updated_at,
        created_at,
        updated_at,
        'shopify' as source,  -- noqa: RF04
        landing_key,
        loaded_at
    from ranked
    where version_rank = 1
)

select * from final
