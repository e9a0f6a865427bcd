{#
    The instant every time window is measured from: the `as_of` var when set (tests, backfills)
    or now in UTC. One macro so that all models of a build agree on "now".
#}
{% macro as_of() -%}
    {%- set pinned = var('as_of', none) -%}
    {%- if pinned is none or pinned == '' -%}
        {{ now_utc() }}
    {%- else -%}
        {%- if not modules.re.fullmatch('\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?', pinned | string) -%}
            {{ exceptions.raise_compiler_error(
                "var 'as_of' must be a UTC timestamp like '2024-06-01 12:00:00', got '" ~ pinned ~ "'"
            ) }}
        {%- endif -%}
        cast('{{ pinned | string | replace("T", " ") }}' as timestamp)
    {%- endif -%}
{%- endmacro %}
