{{
    config(
        materialized='incremental',
        schema='analytics',
        unique_key=['experiment_id', 'profile_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

assignments as (
    select * from {{ ref('stg_tidemark__experiment_assignments') }}
),

experiments as (
    select * from {{ ref('stg_tidemark__experiments') }}
),

message_log as (
    select * from {{ ref('stg_tidemark__message_log') }}
),

arm_assignments as (
    select
        a.experiment_id,
        a.profile_id,
        a.variant,
        a.is_holdout,
        a.assigned_at,
        e.activation,
        e.conversion_window_days
    from assignments as a
    inner join experiments as e
        on a.experiment_id = e.experiment_id and a.variant = e.variant
    {% if is_incremental() %}
        -- An exposure never changes once recorded (the first send, or the assignment for the
        -- holdout): only members not exposed yet are looked at again.
        where not exists (
            select 1 from {{ this }} as seen
            where seen.experiment_id = a.experiment_id and seen.profile_id = a.profile_id
        )
    {% endif %}
),

-- A variant member is exposed when the first message of its arm is sent to them.
sends as (
    select
        aa.experiment_id,
        aa.profile_id,
        m.message_id,
        m.sent_at,
        row_number() over (
            partition by aa.experiment_id, aa.profile_id
            order by m.sent_at, m.message_id
        ) as send_rank
    from arm_assignments as aa
    inner join message_log as m
        on
            aa.activation = m.activation
            and aa.profile_id = m.profile_id
            and aa.variant = m.variant
    where not aa.is_holdout and m.state = 'sent' and m.sent_at is not null
),

exposed as (
    select
        aa.experiment_id,
        aa.profile_id,
        aa.variant,
        aa.is_holdout,
        aa.assigned_at,
        aa.conversion_window_days,
        s.message_id as exposure_message_id,
        -- The holdout is exposed when assigned: that is when the others were messaged.
        case when aa.is_holdout then aa.assigned_at else s.sent_at end as exposed_at
    from arm_assignments as aa
    left join sends as s
        on
            aa.experiment_id = s.experiment_id
            and aa.profile_id = s.profile_id
            and s.send_rank = 1
),

final as (
    select
        experiment_id,
        profile_id,
        variant,
        is_holdout,
        assigned_at,
        exposed_at,
        exposure_message_id,
        conversion_window_days,
        {{ dbt.dateadd('day', 'conversion_window_days', 'exposed_at') }} as window_ends_at
    from exposed
    where exposed_at is not null
)

select * from final
