{{ config(materialized='table', schema='intermediate') }}

with

exposures as (
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

-- Feedback on any message of the experiment's arm to this person, inside the window.
arm_messages as (
    select distinct
        x.experiment_id,
        x.profile_id,
        m.message_id
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
        x.experiment_id,
        x.profile_id,
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
        x.experiment_id,
        x.profile_id,
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
        x.experiment_id,
        x.profile_id,
        x.variant,
        x.is_holdout,
        x.exposed_at,
        coalesce(mo.clicked, 0) as clicked,
        case when coalesce(oo.orders, 0) > 0 then 1 else 0 end as converted,
        coalesce(oo.revenue, 0) as revenue,
        coalesce(mo.unsubscribed, 0) as unsubscribed,
        coalesce(mo.complained, 0) as complained
    from exposures as x
    left join message_outcomes as mo
        on x.experiment_id = mo.experiment_id and x.profile_id = mo.profile_id
    left join order_outcomes as oo
        on x.experiment_id = oo.experiment_id and x.profile_id = oo.profile_id
)

select * from final
