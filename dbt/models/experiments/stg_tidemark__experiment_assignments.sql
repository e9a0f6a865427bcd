{{ config(materialized='view', schema='staging') }}

with

assignments as (
    {{ tidemark_engine_table('experiment_assignments', [
        ('experiment_id', 'varchar'), ('profile_id', 'varchar'), ('variant', 'varchar'),
        ('is_holdout', 'boolean'), ('assigned_at', 'timestamp'), ('run_id', 'varchar'),
    ]) }}
),

final as (
    select
        experiment_id,
        profile_id,
        variant,
        is_holdout,
        assigned_at,
        run_id
    from assignments
)

select * from final
