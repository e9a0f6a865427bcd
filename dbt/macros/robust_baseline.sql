{#
    CTEs that give every point of a series its robust baseline: the median of the series'
    values over the previous `anomaly_window_days` (the point itself excluded), the median
    absolute deviation (MAD) around that median, and how many points the window held.
    Written with self-joins and plain `median` (DuckDB, ClickHouse and Snowflake all have it)
    rather than windowed medians, which the engines do not share.

    `points`: a CTE with columns `series` (what is judged separately), `measured_at` and
    `observed_value` (null values are not history). Emits `<points>_window`, `<points>_median` and
    `<points>_baseline` (series, measured_at, baseline_median, baseline_mad, history_points);
    points without history are absent from `<points>_baseline`.
#}
{% macro robust_baseline(points) -%}
{{ points }}_window as (
    select
        current_point.series,
        current_point.measured_at,
        past_point.observed_value as past_value
    from {{ points }} as current_point
    inner join {{ points }} as past_point
        on
            current_point.series = past_point.series
            and past_point.measured_at < current_point.measured_at
            and past_point.measured_at
            >= {{ dbt.dateadd('day', -var('anomaly_window_days'), 'current_point.measured_at') }}
    where past_point.observed_value is not null
),

{{ points }}_median as (
    select
        series,
        measured_at,
        median(past_value) as baseline_median,
        count(*) as history_points
    from {{ points }}_window
    group by series, measured_at
),

{{ points }}_baseline as (
    select
        point_window.series,
        point_window.measured_at,
        point_median.baseline_median,
        median(abs(point_window.past_value - point_median.baseline_median)) as baseline_mad,
        point_median.history_points
    from {{ points }}_window as point_window
    inner join {{ points }}_median as point_median
        on
            point_window.series = point_median.series
            and point_window.measured_at = point_median.measured_at
    group by
        point_window.series,
        point_window.measured_at,
        point_median.baseline_median,
        point_median.history_points
)
{%- endmacro %}
