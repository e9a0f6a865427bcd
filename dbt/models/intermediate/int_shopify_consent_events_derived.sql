with

customers as (
    select * from {{ ref('int_shopify_customers_deduplicated') }}
),

channel_states as (
    select
        profile_id,
        'email' as channel,
        email_marketing_state as marketing_state,
        email_marketing_consent_updated_at as consent_updated_at,
        updated_at
    from customers
    union all
    select
        profile_id,
        'sms' as channel,
        sms_marketing_state as marketing_state,
        sms_marketing_consent_updated_at as consent_updated_at,
        updated_at
    from customers
),

-- Shopify's states in Tidemark's terms. Subscribed is a grant; unsubscribed a withdrawal, and
-- so are redacted (the customer's data was erased) and invalid (never send to it). Not
-- subscribed and pending (a double opt-in not yet confirmed) state no decision: never asked.
mapped_states as (
    select
        profile_id,
        channel,
        case
            when marketing_state = 'subscribed' then 'granted'
            when marketing_state in ('unsubscribed', 'redacted', 'invalid') then 'withdrawn'
        end as status,
        coalesce(consent_updated_at, updated_at) as occurred_at
    from channel_states
    where marketing_state is not null
),

-- Shops on API versions before `email_marketing_consent` report only `accepts_marketing`:
-- true is a grant; false is a withdrawal only when Shopify dates the change, else the
-- customer was never asked.
legacy_email_states as (
    select
        profile_id,
        'email' as channel,
        case
            when accepts_marketing then 'granted'
            when accepts_marketing_updated_at is not null then 'withdrawn'
        end as status,
        coalesce(accepts_marketing_updated_at, updated_at) as occurred_at
    from customers
    where
        email_marketing_state is null
        and accepts_marketing is not null
),

all_states as (
    select * from mapped_states
    union all
    select * from legacy_email_states
),

final as (
    select
        -- Deterministic: the same state at the same time is the same event in every build.
        'shopify:' || profile_id || ':' || channel || ':' || status || ':'
        || cast(occurred_at as varchar) as consent_event_id,
        profile_id,
        channel,
        status,
        occurred_at,
        'shopify' as source  -- noqa: RF04
    from all_states
    where status is not null
)

select * from final
