with

profiles as (
    select * from {{ ref('profiles') }}
),

window_bounds as (
    select
        {{ dbt.dateadd('day', -1 * var('new_subscriber_window_days'), as_of()) }}
            as window_start,
        {{ as_of() }} as window_end
),

new_subscribers as (
    select profiles.*
    from profiles
    cross join window_bounds
    where
        profiles.email_consent = 'granted'
        and profiles.email_consent_at >= window_bounds.window_start
        and profiles.email_consent_at <= window_bounds.window_end
),

final as (
    select
        profile_id,
        email,
        first_name,
        time_zone,
        email_consent_at as subscribed_at
    from new_subscribers
)

select * from final
