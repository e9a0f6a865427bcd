with

consent_events as (
    select * from {{ ref('stg_raw__consent_events') }}
),

shopify_consent_events as (
    select * from {{ ref('int_shopify_consent_events_derived') }}
),

profiles as (
    select * from {{ ref('int_profiles_deduplicated') }}
),

known_consent_events as (
    select
        profile_id,
        channel,
        status,
        occurred_at,
        consent_event_id
    from consent_events
    where
        channel in ('email', 'sms')
        and status in ('granted', 'withdrawn')
    union all
    -- Shopify states its customers' consent on the customer; see that model for the mapping.
    select
        profile_id,
        channel,
        status,
        occurred_at,
        consent_event_id
    from shopify_consent_events
),

ranked as (
    select
        *,
        -- Latest first; at the same instant a withdrawal beats a grant (never send on a tie).
        row_number() over (
            partition by profile_id, channel
            order by
                occurred_at desc,
                case when status = 'withdrawn' then 0 else 1 end asc,
                consent_event_id desc
        ) as recency_rank
    from known_consent_events
),

latest as (
    select
        profile_id,
        channel,
        status,
        occurred_at
    from ranked
    where recency_rank = 1
),

-- The most recent event whose status differs from the current one ends the current run.
status_run_boundaries as (
    select
        ranked.profile_id,
        ranked.channel,
        min(ranked.recency_rank) as boundary_rank
    from ranked
    inner join latest
        on
            ranked.profile_id = latest.profile_id
            and ranked.channel = latest.channel
    where ranked.status != latest.status
    group by ranked.profile_id, ranked.channel
),

-- The current status took effect at the first event of its run: re-confirming a grant does
-- not make someone a new subscriber again.
current_status_runs as (
    select
        ranked.profile_id,
        ranked.channel,
        min(ranked.occurred_at) as status_since
    from ranked
    left join status_run_boundaries
        on
            ranked.profile_id = status_run_boundaries.profile_id
            and ranked.channel = status_run_boundaries.channel
    where
        status_run_boundaries.boundary_rank is null
        or ranked.recency_rank < status_run_boundaries.boundary_rank
    group by ranked.profile_id, ranked.channel
),

channels as (
    select 'email' as channel
    union all
    select 'sms' as channel
),

profile_channels as (
    select
        profiles.profile_id,
        channels.channel
    from profiles
    cross join channels
),

final as (
    select
        -- Named explicitly: ClickHouse names a column read from a join where several inputs
        -- have it after its qualifier (`profile_channels.profile_id`).
        profile_channels.profile_id as profile_id,  -- noqa: AL09
        profile_channels.channel as channel,  -- noqa: AL09
        coalesce(latest.status, 'never_asked') as consent_status,
        current_status_runs.status_since as consent_at,
        latest.occurred_at as last_consent_event_at
    from profile_channels
    left join latest
        on
            profile_channels.profile_id = latest.profile_id
            and profile_channels.channel = latest.channel
    left join current_status_runs
        on
            profile_channels.profile_id = current_status_runs.profile_id
            and profile_channels.channel = current_status_runs.channel
)

select * from final
