{#
    Use a model's custom schema verbatim (`analytics.profiles`, not `main_analytics.profiles`):
    analysts and the engine query fixed, documented schema names on every target.
    Models without a custom schema fall back to the target's schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
