{{
    config(
        materialized='incremental',
        unique_key='order_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

{#- A build after new loads recomputes only the orders those loads report on (all their
    reports, old and new, so the first report still dates the order). A table built before
    the model was incremental has no marks: that build recomputes every order. -#}
{%- set incremental_with_marks = is_incremental_with_marks() %}

with

events as (
    select * from {{ ref('events') }}
),

order_events as (
    select
        coalesce(order_id, event_id) as order_key,
        order_id,
        event_id,
        profile_id,
        occurred_at,
        coalesce(revenue, 0) as revenue,
        loaded_at
    from events
    where event_type = 'order'
),

{% if incremental_with_marks %}
    reported_orders as (
        select distinct order_key
        from order_events
        where {{ loaded_after_last_build('order_events') }}
    ),
{% endif %}

ranked as (
    select
        *,
        -- A source may report one order in several events (e.g. an update): the latest
        -- report carries the revenue, the first one dates the order.
        min(occurred_at) over (partition by order_key) as ordered_at,
        row_number() over (
            partition by order_key
            order by occurred_at desc, event_id desc
        ) as report_rank
    from order_events
    {% if incremental_with_marks %}
        where order_key in (select ro.order_key from reported_orders as ro)
    {% endif %}
),

final as (
    select
        order_key,
        order_id,
        event_id,
        profile_id,
        ordered_at,
        revenue,
        loaded_at,
        {{ newest_loaded_at(ref('events')) }} as inputs_loaded_through
    from ranked
    where report_rank = 1
)

select * from final
