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
