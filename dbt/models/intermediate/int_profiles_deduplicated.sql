{{
    config(
        materialized='incremental',
        unique_key='profile_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

raw_profile_versions as (
    select * from {{ ref('stg_raw__profiles') }}
),

shopify_customers as (
    select * from {{ ref('int_shopify_customers_deduplicated') }}
),

{% if is_incremental() %}
-- Only profiles with a version from a load this model has not seen are re-ranked, over all
-- of their versions (so versions_count stays whole); everyone else keeps their row. The
-- model's newest loaded_at is that of a winning version, so a load whose versions all lost
-- is re-ranked again next time: wasted work, never a missed version.
changed_profiles as (
    select raw_profile_versions.profile_id
    from raw_profile_versions
    where {{ loaded_since_last_run('raw_profile_versions') }}
    union all
    select shopify_customers.profile_id
    from shopify_customers
    where {{ loaded_since_last_run('shopify_customers') }}
),
{% endif %}

profile_versions as (
    select
        profile_id,
        email,
        phone,
        first_name,
        last_name,
        country,
        time_zone,
        created_at,
        updated_at,
        source,
        landing_key,
        loaded_at
    from raw_profile_versions
    {% if is_incremental() %}
        where profile_id in (select changed_profiles.profile_id from changed_profiles)
    {% endif %}
    union all
    select
        profile_id,
        email,
        phone,
        first_name,
        last_name,
        country,
        time_zone,
        created_at,
        updated_at,
        source,
        landing_key,
        loaded_at
    from shopify_customers
    {% if is_incremental() %}
        where profile_id in (select changed_profiles.profile_id from changed_profiles)
    {% endif %}
),

ranked as (
    select
        *,
        count(*) over (partition by profile_id) as versions_count,
        -- Newest updated_at wins; on a tie the copy loaded last, then the last file; two
        -- versions of one file with the same updated_at are ordered by their content so the
        -- winner never depends on scan order.
        row_number() over (
            partition by profile_id
            order by
                updated_at desc,
                loaded_at desc,
                landing_key desc,
                email asc nulls last,
                phone asc nulls last,
                first_name asc nulls last,
                last_name asc nulls last,
                country asc nulls last,
                time_zone asc nulls last,
                created_at asc,
                source asc
        ) as version_rank
    from profile_versions
),

final as (
    select
        profile_id,
        email,
        phone,
        first_name,
        last_name,
        country,
        time_zone,
        created_at,
        updated_at,
        source,
        versions_count,
        landing_key,
        loaded_at
    from ranked
    where version_rank = 1
)

select * from final
