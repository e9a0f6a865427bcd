{#
    Whether a value is an IANA time zone name the engine knows, so quiet hours and send times
    are never computed in a zone the warehouse cannot convert to. DuckDB lists its zones in
    pg_timezone_names(); the default only checks the shape (`Area/Location` or `UTC`).
#}
{% macro is_known_time_zone(column) -%}
    {{ return(adapter.dispatch('is_known_time_zone', 'tidemark')(column)) }}
{%- endmacro %}

{% macro default__is_known_time_zone(column) -%}
    coalesce(
        {{ column }} = 'UTC'
        or regexp_like({{ column }}, '^[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2}$'),
        false
    )
{%- endmacro %}

{% macro duckdb__is_known_time_zone(column) -%}
    coalesce({{ column }} in (select tz.name from pg_timezone_names() as tz), false)
{%- endmacro %}

{% macro clickhouse__is_known_time_zone(column) -%}
    coalesce({{ column }} in (select tz.time_zone from system.time_zones as tz), false)
{%- endmacro %}
