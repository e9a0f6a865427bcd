{#
    Whether an already lowercased, trimmed address is syntactically deliverable: local part,
    one @, a dotted domain with a 2+ letter TLD. A syntax check only (no MX lookup); it keeps
    obvious typos out of sends. Regex functions differ per engine, hence the dispatch; the
    pattern uses `[.]`, not a backslash, because engines disagree on escapes in string literals.
#}
{% macro email_pattern() -%}
    ^[a-z0-9!#$%&*+/=?^_`{|}~-]+([.][a-z0-9!#$%&*+/=?^_`{|}~-]+)*@[a-z0-9]([a-z0-9-]*[a-z0-9])?([.][a-z0-9]([a-z0-9-]*[a-z0-9])?)*[.][a-z]{2,}$
{%- endmacro %}

{% macro is_valid_email(column) -%}
    {{ return(adapter.dispatch('is_valid_email', 'tidemark')(column)) }}
{%- endmacro %}

{% macro default__is_valid_email(column) -%}
    coalesce(regexp_like({{ column }}, '{{ email_pattern() }}'), false)
{%- endmacro %}

{% macro duckdb__is_valid_email(column) -%}
    coalesce(regexp_full_match({{ column }}, '{{ email_pattern() }}'), false)
{%- endmacro %}

{% macro clickhouse__is_valid_email(column) -%}
    coalesce(match({{ column }}, '{{ email_pattern() }}'), false)
{%- endmacro %}
