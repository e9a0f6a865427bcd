{#
    The domain part of an email address, lowercased ('' when there is no '@'): the mailbox
    provider deliverability is judged by. Engines split strings differently, hence dispatch.
#}
{% macro email_domain(column) -%}
    {{ return(adapter.dispatch('email_domain', 'tidemark')(column)) }}
{%- endmacro %}

{% macro default__email_domain(column) -%}
    lower(split_part({{ column }}, '@', 2))
{%- endmacro %}

{# ClickHouse has no split_part; arrayElement past the end gives '', as split_part does. #}
{% macro clickhouse__email_domain(column) -%}
    lower(arrayElement(splitByChar('@', {{ column }}), 2))
{%- endmacro %}
