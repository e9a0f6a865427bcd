with

profiles as (
    select * from {{ ref('int_profiles_deduplicated') }}
),

consents as (
    select * from {{ ref('int_consents_resolved') }}
),

suppressions as (
    select * from {{ ref('int_suppressions_first_reason') }}
),

customer_orders as (
    select * from {{ ref('int_profile_orders_rfm_scored') }}
),

activity as (
    select * from {{ ref('int_profile_activity_aggregated') }}
),

email_engagement as (
    select * from {{ ref('int_profile_email_engagement_aggregated') }}
),

consents_by_channel as (
    select
        profile_id,
        max(case when channel = 'email' then consent_status end) as email_consent,
        max(case when channel = 'email' then consent_at end) as email_consent_at,
        max(case when channel = 'sms' then consent_status end) as sms_consent,
        max(case when channel = 'sms' then consent_at end) as sms_consent_at
    from consents
    group by profile_id
),

email_suppressions as (
    select address from suppressions
    where channel = 'email'
),

sms_suppressions as (
    select address from suppressions
    where channel = 'sms'
),

joined as (
    select
        -- Named explicitly: over several joins ClickHouse names a column that more than one
        -- input has after its qualifier (`profiles.profile_id`).
        profiles.profile_id as profile_id,  -- noqa: AL09
        profiles.email,
        profiles.phone,
        profiles.first_name,
        profiles.last_name,
        profiles.country,
        case
            when {{ is_known_time_zone('profiles.time_zone') }} then profiles.time_zone
            else 'UTC'
        end as time_zone,
        profiles.created_at,
        profiles.updated_at,
        {{ is_valid_email('profiles.email') }} as is_email_valid,
        coalesce(consents_by_channel.email_consent, 'never_asked') as email_consent,
        consents_by_channel.email_consent_at,
        coalesce(consents_by_channel.sms_consent, 'never_asked') as sms_consent,
        consents_by_channel.sms_consent_at,
        email_suppressions.address is not null as is_email_suppressed,
        sms_suppressions.address is not null as is_sms_suppressed,
        activity.last_seen_at,
        activity.last_add_to_cart_at,
        coalesce(customer_orders.orders_count, 0) as orders_count,
        coalesce(customer_orders.lifetime_value, 0) as lifetime_value,
        customer_orders.average_order_value,
        customer_orders.first_order_at,
        customer_orders.last_order_at,
        {{ dbt.datediff('customer_orders.last_order_at', as_of(), 'day') }}
            as days_since_last_order,
        customer_orders.recency_score,
        customer_orders.frequency_score,
        customer_orders.monetary_score,
        coalesce(customer_orders.rfm_segment, 'prospects') as rfm_segment,
        coalesce(email_engagement.email_sends_90d, 0) as email_sends_90d,
        coalesce(email_engagement.email_opens_90d, 0) as email_opens_90d,
        coalesce(email_engagement.email_clicks_90d, 0) as email_clicks_90d,
        email_engagement.last_email_open_at
    from profiles
    left join consents_by_channel
        on profiles.profile_id = consents_by_channel.profile_id
    left join email_suppressions
        on profiles.email = email_suppressions.address
    left join sms_suppressions
        on profiles.phone = sms_suppressions.address
    left join activity
        on profiles.profile_id = activity.profile_id
    left join customer_orders
        on profiles.profile_id = customer_orders.profile_id
    left join email_engagement
        on profiles.profile_id = email_engagement.profile_id
),

final as (
    select
        profile_id,
        email,
        phone,
        first_name,
        last_name,
        country,
        time_zone,
        created_at,
        updated_at,
        is_email_valid,
        email_consent,
        email_consent_at,
        sms_consent,
        sms_consent_at,
        is_email_suppressed,
        is_sms_suppressed,
        (is_email_valid and email_consent = 'granted' and not is_email_suppressed)
            as is_email_reachable,
        (phone is not null and sms_consent = 'granted' and not is_sms_suppressed)
            as is_sms_reachable,
        last_seen_at,
        last_add_to_cart_at,
        cast(orders_count as integer) as orders_count,
        cast(lifetime_value as decimal(18, 2)) as lifetime_value,
        cast(average_order_value as decimal(18, 2)) as average_order_value,
        first_order_at,
        last_order_at,
        cast(days_since_last_order as integer) as days_since_last_order,
        recency_score,
        frequency_score,
        monetary_score,
        rfm_segment,
        cast(email_sends_90d as integer) as email_sends_90d,
        cast(email_opens_90d as integer) as email_opens_90d,
        cast(email_clicks_90d as integer) as email_clicks_90d,
        last_email_open_at
    from joined
)

select * from final
