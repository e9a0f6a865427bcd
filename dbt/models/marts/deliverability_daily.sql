with

message_events as (
    select * from {{ ref('message_events') }}
    where channel = 'email'
),

events as (
    select
        message_id,
        event_type,
        bounce_type,
        cast(occurred_at as date) as event_date,
        coalesce(
            nullif({{ email_domain('recipient') }}, ''), 'unknown'
        ) as mailbox_domain
    from message_events
),

daily as (
    select
        event_date,
        mailbox_domain,
        count(distinct case when event_type = 'sent' then message_id end) as sent,
        count(distinct case when event_type = 'delivered' then message_id end) as delivered,
        count(
            distinct case
                when event_type = 'bounce' and bounce_type = 'hard' then message_id
            end
        ) as hard_bounces,
        count(
            distinct case
                when event_type = 'bounce' and coalesce(bounce_type, 'soft') != 'hard'
                    then message_id
            end
        ) as soft_bounces,
        count(distinct case when event_type = 'complaint' then message_id end) as complaints,
        count(distinct case when event_type = 'open' then message_id end) as unique_opens,
        count(distinct case when event_type = 'click' then message_id end) as unique_clicks,
        count(distinct case when event_type = 'unsubscribe' then message_id end)
            as unsubscribes
    from events
    group by event_date, mailbox_domain
),

final as (
    select
        event_date,
        mailbox_domain,
        sent,
        delivered,
        hard_bounces,
        soft_bounces,
        complaints,
        unique_opens,
        unique_clicks,
        unsubscribes,
        cast(delivered as double) / nullif(sent, 0) as delivery_rate,
        cast(hard_bounces + soft_bounces as double) / nullif(sent, 0) as bounce_rate,
        -- Mailbox providers (Gmail's postmaster limits: 0.1% target, 0.3% ceiling) judge
        -- complaints against delivered mail.
        cast(complaints as double) / nullif(delivered, 0) as complaint_rate,
        cast(unique_opens as double) / nullif(delivered, 0) as open_rate,
        cast(unique_clicks as double) / nullif(delivered, 0) as click_rate
    from daily
)

select * from final
