{{
    config(
        materialized='incremental',
        unique_key='message_event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

message_events as (
    select * from {{ ref('stg_raw__message_events') }}
    {% if is_incremental() %}
        -- Rows of loads this model has not processed yet (see the macro for the tie rule).
        where {{ loaded_since_last_run() }}
    {% endif %}
),

ranked as (
    select
        *,
        -- Within the new rows the copy loaded last wins; across runs delete+insert replaces
        -- the stored copy (the one place message events are deduplicated).
        row_number() over (
            partition by message_event_id
            order by loaded_at desc, landing_key desc
        ) as copy_rank
    from message_events
),

final as (
    select
        message_event_id,
        message_id,
        profile_id,
        channel,
        event_type,
        occurred_at,
        provider,
        recipient,
        campaign_id,
        bounce_type,
        url,
        landing_key,
        loaded_at
    from ranked
    where copy_rank = 1
)

select * from final
