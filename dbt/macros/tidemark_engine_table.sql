{#
    The rows of one of the engine's own tables (`tidemark.<table>`), or none, typed, when the
    engine has not created it yet: a dbt build before the first experiment runs must still
    succeed, with empty experiment models. `columns` is a list of (name, type) pairs naming
    every column the caller reads.
#}
{% macro tidemark_engine_table(table, columns) -%}
    {%- set relation = source('tidemark', table) -%}
    {%- if execute and load_relation(relation) is none -%}
        select
        {%- for name, type in columns %}
            cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        where 1 = 0
    {%- else -%}
        select
        {%- for name, type in columns %}
            {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        from {{ relation }}
    {%- endif -%}
{%- endmacro %}
