{{
    config(
        materialized='incremental',
        schema='intermediate',
        unique_key=['experiment_id', 'profile_id'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

{#- Incremental once the table has its watermark column; a table built before the model
    was incremental has none, so that build recomputes every row and adds the column. -#}
{%- set has_watermark = is_incremental() and 'inputs_loaded_at' in (
    adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list
) %}

with

all_exposures as (
    select * from {{ ref('experiment_exposures') }}
),

experiments as (
    select * from {{ ref('stg_tidemark__experiments') }}
),

message_log as (
    select * from {{ ref('stg_tidemark__message_log') }}
),

message_events as (
    select * from {{ ref('message_events') }}
),

orders as (
    select * from {{ ref('int_orders_deduplicated') }}
),

-- The newest load of feedback and orders this build sees; stored on every row, so the next
-- build knows which loads are new to it.
inputs as (
    select
        greatest(
            coalesce(
                (select max(me.loaded_at) from message_events as me),
                cast('1970-01-01 00:00:00' as timestamp)
            ),
            coalesce(
                (select max(o.loaded_at) from orders as o),
                cast('1970-01-01 00:00:00' as timestamp)
            )
        ) as inputs_loaded_at
),

{% if has_watermark %}
    -- Only people whose outcomes can have changed are computed again: those exposed since
    -- the last build, and those with feedback or an order (or a newer report of one) loaded
    -- since. Loads stamped at the last build's instant count as new (recomputing is harmless).
    watermark as (
        select
            coalesce(
                max(seen.inputs_loaded_at), cast('1970-01-01 00:00:00' as timestamp)
            ) as loaded_at
        from {{ this }} as seen
    ),

    touched_profiles as (
        select m.profile_id
        from message_events as me
        inner join message_log as m
            on me.message_id = m.message_id
        where me.loaded_at >= (select w.loaded_at from watermark as w)
        union
        select o.profile_id
        from orders as o
        where o.loaded_at >= (select w.loaded_at from watermark as w)
    ),
{% endif %}

exposures as (
    select x.*
    from all_exposures as x
    {% if has_watermark %}
        where
            not exists (
                select 1 from {{ this }} as seen
                where seen.experiment_id = x.experiment_id and seen.profile_id = x.profile_id
            )
            or x.profile_id in (select t.profile_id from touched_profiles as t)
    {% endif %}
),

-- Feedback on any message of the experiment's arm to this person, inside the window.
-- Columns selected across a join are aliased to their own names here and below: ClickHouse
-- names a selected `x.c` 'x.c' after a join, which a later `x.c` then finds ambiguous.
arm_messages as (
    select distinct
        x.experiment_id as experiment_id,  -- noqa: AL09
        x.profile_id as profile_id,  -- noqa: AL09
        m.message_id as message_id  -- noqa: AL09
    from exposures as x
    inner join experiments as e
        on x.experiment_id = e.experiment_id and x.variant = e.variant
    inner join message_log as m
        on
            e.activation = m.activation
            and x.profile_id = m.profile_id
            and x.variant = m.variant
    where not x.is_holdout
),

message_outcomes as (
    select
        x.experiment_id as experiment_id,  -- noqa: AL09
        x.profile_id as profile_id,  -- noqa: AL09
        max(case when me.event_type = 'click' then 1 else 0 end) as clicked,
        max(case when me.event_type = 'unsubscribe' then 1 else 0 end) as unsubscribed,
        max(case when me.event_type = 'complaint' then 1 else 0 end) as complained
    from exposures as x
    inner join arm_messages as am
        on x.experiment_id = am.experiment_id and x.profile_id = am.profile_id
    inner join message_events as me
        on am.message_id = me.message_id
    where me.occurred_at > x.exposed_at and me.occurred_at <= x.window_ends_at
    group by x.experiment_id, x.profile_id
),

order_outcomes as (
    select
        x.experiment_id as experiment_id,  -- noqa: AL09
        x.profile_id as profile_id,  -- noqa: AL09
        count(*) as orders,
        sum(cast(o.revenue as double)) as revenue
    from exposures as x
    inner join orders as o
        on x.profile_id = o.profile_id
    where o.ordered_at > x.exposed_at and o.ordered_at <= x.window_ends_at
    group by x.experiment_id, x.profile_id
),

final as (
    select
        x.experiment_id as experiment_id,  -- noqa: AL09
        x.profile_id as profile_id,  -- noqa: AL09
        x.variant as variant,  -- noqa: AL09
        x.is_holdout as is_holdout,  -- noqa: AL09
        x.exposed_at as exposed_at,  -- noqa: AL09
        coalesce(mo.clicked, 0) as clicked,
        case when coalesce(oo.orders, 0) > 0 then 1 else 0 end as converted,
        coalesce(oo.revenue, 0) as revenue,
        coalesce(mo.unsubscribed, 0) as unsubscribed,
        coalesce(mo.complained, 0) as complained,
        i.inputs_loaded_at
    from exposures as x
    cross join inputs as i
    left join message_outcomes as mo
        on x.experiment_id = mo.experiment_id and x.profile_id = mo.profile_id
    left join order_outcomes as oo
        on x.experiment_id = oo.experiment_id and x.profile_id = oo.profile_id
)

select * from final
