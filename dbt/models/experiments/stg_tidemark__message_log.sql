{{ config(materialized='view', schema='staging') }}

with

message_log as (
    {{ tidemark_engine_table('message_log', [
        ('message_id', 'varchar'), ('activation', 'varchar'), ('profile_id', 'varchar'),
        ('variant', 'varchar'), ('state', 'varchar'), ('sent_at', 'timestamp'),
    ]) }}
),

final as (
    select
        message_id,
        activation,
        profile_id,
        variant,
        state,
        sent_at
    from message_log
)

select * from final
