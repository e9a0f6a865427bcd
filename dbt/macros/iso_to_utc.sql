{#
    An ISO 8601 text with an offset (as Shopify writes times, in the shop's zone) as a UTC
    timestamp without time zone, like every `*_at` column; null when absent or unreadable.
#}
{% macro iso_to_utc(text) -%}
    {{ return(adapter.dispatch('iso_to_utc', 'tidemark')(text)) }}
{%- endmacro %}

{% macro default__iso_to_utc(text) -%}
    cast(timezone('UTC', try_cast({{ text }} as timestamptz)) as timestamp)
{%- endmacro %}

{% macro clickhouse__iso_to_utc(text) -%}
    toDateTime64(parseDateTime64BestEffortOrNull({{ text }}, 6, 'UTC'), 6, 'UTC')
{%- endmacro %}

{% macro snowflake__iso_to_utc(text) -%}
    cast(convert_timezone('UTC', try_cast({{ text }} as timestamp_tz)) as timestamp_ntz)
{%- endmacro %}
