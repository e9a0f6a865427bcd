{{ config(materialized='view') }}

-- A view: segments append to the history as they build, in any order relative to this model,
-- so the flags are computed when read and always cover the newest sizes.

with

history as (
    select * from {{ source('monitoring', 'segment_size_history') }}
),

numbered as (
    select
        segment,
        measured_at,
        members,
        row_number() over (partition by segment order by measured_at asc) as point_number
    from history
),

changes as (
    select
        current_point.segment as series,
        current_point.measured_at,
        current_point.members,
        previous_point.members as previous_members,
        current_point.members - previous_point.members as observed_value,
        current_point.point_number
    from numbered as current_point
    left join numbered as previous_point
        on
            current_point.segment = previous_point.segment
            and current_point.point_number = previous_point.point_number + 1
),

{{ robust_baseline('changes') }},

scored as (
    select
        changes.series as segment,
        changes.measured_at,
        changes.members,
        changes.previous_members,
        changes.observed_value as size_change,
        changes_baseline.baseline_median as baseline_median_change,
        changes_baseline.baseline_mad as baseline_mad_change,
        coalesce(changes_baseline.history_points, 0) as history_points,
        greatest(
            1.4826 * coalesce(changes_baseline.baseline_mad, 0),
            {{ var('segment_size_min_scale_ratio') }} * coalesce(changes.previous_members, 0),
            1.0
        ) as robust_scale
    from changes
    left join changes_baseline
        on
            changes.series = changes_baseline.series
            and changes.measured_at = changes_baseline.measured_at
),

latest as (
    select
        segment,
        max(measured_at) as latest_measured_at
    from history
    group by segment
),

final as (
    select
        scored.segment,
        scored.measured_at,
        scored.members,
        scored.previous_members,
        scored.size_change,
        scored.baseline_median_change,
        scored.baseline_mad_change,
        scored.history_points,
        scored.robust_scale,
        cast((scored.size_change - scored.baseline_median_change) / scored.robust_scale as double)
            as robust_z,
        coalesce(
            scored.history_points >= {{ var('anomaly_min_history') }}
            and abs((scored.size_change - scored.baseline_median_change) / scored.robust_scale)
            > {{ var('anomaly_z_threshold') }},
            false
        ) as is_anomaly,
        scored.measured_at = latest.latest_measured_at as is_latest
    from scored
    inner join latest on scored.segment = latest.segment
)

select * from final
