{#
    The hour of day (0-23) a UTC timestamp falls in on the wall clock of an IANA time zone
    given per row, daylight saving time included. Engines convert between zones differently,
    hence the dispatch.
#}
{% macro local_hour(utc_column, time_zone_column) -%}
    {{ return(adapter.dispatch('local_hour', 'tidemark')(utc_column, time_zone_column)) }}
{%- endmacro %}

{# Snowflake's three-argument convert_timezone takes a zone per row and a naive UTC value. #}
{% macro default__local_hour(utc_column, time_zone_column) -%}
    extract(hour from convert_timezone('UTC', {{ time_zone_column }}, {{ utc_column }}))
{%- endmacro %}

{# A naive timestamp read as UTC becomes a timestamptz, shown on the zone's wall clock. #}
{% macro duckdb__local_hour(utc_column, time_zone_column) -%}
    cast(extract(hour from (({{ utc_column }} at time zone 'UTC') at time zone {{ time_zone_column }})) as integer)
{%- endmacro %}

{#
    ClickHouse ties a zone to a DateTime's type, so toHour and toTimeZone take one zone for
    the whole column (toTimeZone silently so). formatDateTime reads its zone argument per row.
#}
{% macro clickhouse__local_hour(utc_column, time_zone_column) -%}
    toInt32(formatDateTime(toDateTime({{ utc_column }}, 'UTC'), '%H', {{ time_zone_column }}))
{%- endmacro %}
