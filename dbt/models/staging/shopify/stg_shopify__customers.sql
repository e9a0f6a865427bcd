with

raw_customers as (
    select * from {{ source('shopify', 'shopify_customers') }}
),

renamed as (
    select
        shop,
        customer_id,
        nullif(lower(trim(email)), '') as email,
        nullif(trim(phone), '') as phone,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(upper(trim(country_code)), '') as country,
        state as account_state,
        accepts_marketing,
        {{ iso_to_utc(json_text('record', ['accepts_marketing_updated_at'])) }}
            as accepts_marketing_updated_at,
        lower({{ json_text('record', ['email_marketing_consent', 'state']) }})
            as email_marketing_state,
        {{ iso_to_utc(json_text('record', ['email_marketing_consent', 'consent_updated_at'])) }}
            as email_marketing_consent_updated_at,
        lower({{ json_text('record', ['sms_marketing_consent', 'state']) }})
            as sms_marketing_state,
        {{ iso_to_utc(json_text('record', ['sms_marketing_consent', 'consent_updated_at'])) }}
            as sms_marketing_consent_updated_at,
        created_at,
        updated_at,
        _landing_key as landing_key,
        _loaded_at as loaded_at
    from raw_customers
)

select * from renamed
