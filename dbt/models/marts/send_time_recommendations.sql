-- Columns read through a join are aliased: ClickHouse names them after their qualifier too.

with

profiles as (
    select * from {{ ref('profiles') }}
),

engagement_hours as (
    select * from {{ ref('int_profile_engagement_hours_counted') }}
),

hours_of_day as (
    {% for hour in range(24) -%}
        select {{ hour }} as local_hour
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

population_counts as (
    select
        hours_of_day.local_hour as local_hour,  -- noqa: AL09
        coalesce(sum(engagement_hours.engagements), 0) as engagements
    from hours_of_day
    left join engagement_hours on hours_of_day.local_hour = engagement_hours.local_hour
    group by hours_of_day.local_hour
),

population_total as (
    select sum(engagements) as engagements from population_counts
),

-- The prior: the population's share of engagements at each hour, add-one smoothed so that no
-- hour is impossible.
population as (
    select
        population_counts.local_hour as local_hour,  -- noqa: AL09
        (population_counts.engagements + 1.0) / (population_total.engagements + 24.0)
            as population_share
    from population_counts
    cross join population_total
),

-- The population's best hour; ties (and no history anywhere) go to send_time_default_hour.
population_best as (
    select
        local_hour as population_hour,
        population_share as population_hour_share,
        row_number() over (
            order by
                population_share desc,
                case when local_hour = {{ var('send_time_default_hour') }} then 0 else 1 end asc,
                local_hour asc
        ) as hour_rank
    from population
),

population_hour as (
    select
        population_hour,
        population_hour_share
    from population_best
    where hour_rank = 1
),

profile_totals as (
    select
        profile_id,
        sum(engagements) as events_used
    from engagement_hours
    group by profile_id
),

-- Only a profile's own hours and the population's best hour can win: at an hour the profile
-- never engaged, the posterior is proportional to the population share, highest there.
candidate_counts as (
    select
        profile_id,
        local_hour,
        engagements
    from engagement_hours
    union all
    select
        profile_totals.profile_id as profile_id,  -- noqa: AL09
        population_hour.population_hour as local_hour,
        0 as engagements
    from profile_totals
    cross join population_hour
),

candidates as (
    select
        profile_id,
        local_hour,
        sum(engagements) as engagements
    from candidate_counts
    group by profile_id, local_hour
),

posteriors as (
    select
        candidates.profile_id as profile_id,  -- noqa: AL09
        candidates.local_hour as local_hour,  -- noqa: AL09
        candidates.engagements as engagements,  -- noqa: AL09
        profile_totals.events_used as events_used,  -- noqa: AL09
        population.population_share as population_share,  -- noqa: AL09
        (
            candidates.engagements
            + {{ var('send_time_prior_strength') }} * population.population_share
        )
        / (profile_totals.events_used + {{ var('send_time_prior_strength') }})
            as posterior_share
    from candidates
    inner join profile_totals on candidates.profile_id = profile_totals.profile_id
    inner join population on candidates.local_hour = population.local_hour
),

ranked as (
    select
        *,
        row_number() over (
            partition by profile_id
            order by posterior_share desc, population_share desc, local_hour asc
        ) as hour_rank
    from posteriors
),

best as (
    select * from ranked
    where hour_rank = 1
),

final as (
    select
        profiles.profile_id as profile_id,  -- noqa: AL09
        profiles.time_zone as time_zone,  -- noqa: AL09
        cast(coalesce(best.local_hour, population_hour.population_hour) as integer)
            as recommended_hour,
        cast(coalesce(best.events_used, 0) as integer) as events_used,
        cast(coalesce(best.engagements, 0) as integer) as events_at_recommended_hour,
        cast(coalesce(best.posterior_share, population_hour.population_hour_share) as double)
            as confidence,
        cast(population_hour.population_hour as integer) as population_hour,
        best.profile_id is not null as has_history
    from profiles
    cross join population_hour
    left join best on profiles.profile_id = best.profile_id
)

select * from final
