{#
    The current time as a UTC timestamp without time zone, the type of every `*_at` column.
    Each engine spells "now in UTC" differently, hence the dispatch. The default is only right
    when the session time zone is UTC; engines that are not add their own implementation.
#}
{% macro now_utc() -%}
    {{ return(adapter.dispatch('now_utc', 'tidemark')()) }}
{%- endmacro %}

{% macro default__now_utc() -%}
    cast(current_timestamp as timestamp)
{%- endmacro %}

{% macro duckdb__now_utc() -%}
    (current_timestamp at time zone 'UTC')
{%- endmacro %}

{% macro clickhouse__now_utc() -%}
    now64(6, 'UTC')
{%- endmacro %}

{% macro snowflake__now_utc() -%}
    cast(convert_timezone('UTC', current_timestamp()) as timestamp_ntz)
{%- endmacro %}
