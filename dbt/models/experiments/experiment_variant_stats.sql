{{ config(materialized='table', schema='analytics') }}

with

outcomes as (
    select * from {{ ref('int_experiment_outcomes') }}
),

-- One row per person and metric: a 0/1 for the binomial metrics, the value for revenue.
values_per_metric as (
    {% for metric, column in [
        ('click', 'clicked'), ('conversion', 'converted'), ('revenue', 'revenue'),
        ('unsubscribe', 'unsubscribed'), ('complaint', 'complained'),
    ] %}
        select
            experiment_id,
            variant,
            is_holdout,
            '{{ metric }}' as metric,
            cast({{ column }} as double) as value  -- noqa: RF04
        from outcomes
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        experiment_id,
        variant,
        metric,
        case when metric = 'revenue' then 'mean' else 'binomial' end as metric_type,
        is_holdout,
        count(*) as users,  -- noqa: RF04
        -- count(), not sum(1/0): a bigint on every engine (DuckDB sums integers to a hugeint).
        count(case when value != 0 then 1 end) as count,  -- noqa: RF04
        sum(value) as sum,  -- noqa: RF04
        sum(value * value) as sum_squares
    from values_per_metric
    group by experiment_id, variant, metric, is_holdout
)

select * from final
