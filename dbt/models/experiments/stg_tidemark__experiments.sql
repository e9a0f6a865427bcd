{{ config(materialized='view', schema='staging') }}

with

experiments as (
    {{ tidemark_engine_table('experiments', [
        ('experiment_id', 'varchar'), ('activation', 'varchar'), ('variant', 'varchar'),
        ('variant_order', 'integer'), ('is_holdout', 'boolean'), ('is_control', 'boolean'),
        ('weight', 'double'), ('traffic_share', 'double'), ('primary_metric', 'varchar'),
        ('guardrail_metrics', 'varchar'), ('conversion_window_days', 'integer'),
    ]) }}
),

final as (
    select
        experiment_id,
        activation,
        variant,
        variant_order,
        is_holdout,
        is_control,
        cast(weight as double) as weight,
        cast(traffic_share as double) as traffic_share,
        primary_metric,
        guardrail_metrics,
        conversion_window_days
    from experiments
)

select * from final
