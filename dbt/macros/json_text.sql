{#
    A text field of a JSON document held as text, by its path of keys; null when absent,
    JSON null or empty. Sources keep whole resources as JSON (`record`) so fields Tidemark did
    not model at landing can be read later, also from rows landed long before.
#}
{% macro json_text(column, keys) -%}
    {{ return(adapter.dispatch('json_text', 'tidemark')(column, keys)) }}
{%- endmacro %}

{% macro default__json_text(column, keys) -%}
    nullif(json_extract_string({{ column }}, '$.{{ keys | join(".") }}'), '')
{%- endmacro %}

{% macro clickhouse__json_text(column, keys) -%}
    nullif(JSONExtractString({{ column }}, '{{ keys | join("', '") }}'), '')
{%- endmacro %}

{% macro snowflake__json_text(column, keys) -%}
    nullif(parse_json({{ column }}):{{ keys | join(':') }}::varchar, '')
{%- endmacro %}
