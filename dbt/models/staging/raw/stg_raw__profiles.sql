with

raw_profiles as (
    select * from {{ source('raw', 'profiles') }}
),

renamed as (
    select
        profile_id,
        nullif(lower(trim(email)), '') as email,
        nullif(trim(phone), '') as phone,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(upper(trim(country)), '') as country,
        nullif(trim(time_zone), '') as time_zone,
        created_at,
        updated_at,
        source,
        _landing_key as landing_key,
        _loaded_at as loaded_at
    from raw_profiles
)

select * from renamed
