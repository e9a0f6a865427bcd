with

deliverability_daily as (
    select * from {{ ref('deliverability_daily') }}
),

daily as (
    select
        event_date,
        sum(sent) as sent,
        sum(delivered) as delivered,
        sum(hard_bounces + soft_bounces) as bounces,
        sum(complaints) as complaints
    from deliverability_daily
    group by event_date
),

-- Bounces are judged per message sent, complaints per message delivered (as mailbox
-- providers count them). A day with too few sends is shown but neither judged nor history.
rates as (
    select
        'bounce_rate' as series,
        event_date as measured_at,
        sent as volume,
        bounces as events,
        case
            when sent >= {{ var('deliverability_min_sent') }}
                then cast(bounces as double) / sent
        end as observed_value,
        {{ var('bounce_rate_min_scale') }} as min_scale
    from daily
    union all
    select
        'complaint_rate' as series,
        event_date as measured_at,
        delivered as volume,
        complaints as events,
        case
            when sent >= {{ var('deliverability_min_sent') }} and delivered > 0
                then cast(complaints as double) / delivered
        end as observed_value,
        {{ var('complaint_rate_min_scale') }} as min_scale
    from daily
),

{{ robust_baseline('rates') }},

scored as (
    select
        rates.series as metric,
        rates.measured_at as event_date,
        rates.volume,
        rates.events,
        rates.observed_value as rate,
        rates_baseline.baseline_median as baseline_median_rate,
        rates_baseline.baseline_mad as baseline_mad_rate,
        coalesce(rates_baseline.history_points, 0) as history_points,
        greatest(1.4826 * coalesce(rates_baseline.baseline_mad, 0), rates.min_scale)
            as robust_scale
    from rates
    left join rates_baseline
        on
            rates.series = rates_baseline.series
            and rates.measured_at = rates_baseline.measured_at
),

latest as (
    select max(event_date) as latest_event_date from daily
),

final as (
    select
        scored.metric,
        scored.event_date,
        scored.volume,
        scored.events,
        scored.rate,
        scored.baseline_median_rate,
        scored.baseline_mad_rate,
        scored.history_points,
        cast(scored.robust_scale as double) as robust_scale,
        cast((scored.rate - scored.baseline_median_rate) / scored.robust_scale as double)
            as robust_z,
        coalesce(
            scored.history_points >= {{ var('anomaly_min_history') }}
            and (scored.rate - scored.baseline_median_rate) / scored.robust_scale
            > {{ var('anomaly_z_threshold') }},
            false
        ) as is_anomaly,
        scored.event_date = latest.latest_event_date as is_latest
    from scored
    cross join latest
)

select * from final
