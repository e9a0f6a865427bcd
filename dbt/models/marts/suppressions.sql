with

suppressions as (
    select * from {{ ref('int_suppressions_first_reason') }}
),

final as (
    select
        channel,
        address,
        reason,
        suppressed_at,
        profile_id,
        message_id,
        provider,
        suppressing_events_count
    from suppressions
)

select * from final
