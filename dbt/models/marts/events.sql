{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

events as (
    select * from {{ ref('stg_raw__events') }}
    {% if is_incremental() %}
        -- Rows of loads this model has not processed yet (see the macro for the tie rule).
        where {{ loaded_since_last_run() }}
    {% endif %}
),

ranked as (
    select
        *,
        -- Within the new rows the copy loaded last wins; across runs delete+insert replaces
        -- the stored copy, so each event id is stored once.
        row_number() over (
            partition by event_id
            order by loaded_at desc, landing_key desc
        ) as copy_rank
    from events
),

final as (
    select
        event_id,
        profile_id,
        event_type,
        occurred_at,
        product_id,
        order_id,
        revenue,
        quantity,
        source,
        landing_key,
        loaded_at
    from ranked
    where copy_rank = 1
)

select * from final
