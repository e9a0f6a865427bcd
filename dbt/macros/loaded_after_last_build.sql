{#
    For an incremental model that aggregates a mart (not a raw table): each row it writes
    records `inputs_loaded_through`, the newest `loaded_at` of its input at that build
    (`newest_loaded_at`). Input rows loaded after the model's newest mark are the ones it has
    not seen. Builds never overlap a load on DuckDB (one writer holds the file), so a strict
    `>` misses nothing there.
#}
{% macro newest_loaded_at(relation, loaded_at='loaded_at') -%}
    (select max({{ loaded_at }}) from {{ relation }})
{%- endmacro %}

{% macro loaded_after_last_build(source_alias, loaded_at='loaded_at') -%}
    {{ source_alias }}.{{ loaded_at }} > (
        select max(built.inputs_loaded_through) from {{ this }} as built
    )
{%- endmacro %}

{#
    `is_incremental()`, and the model's table already carries the marks. A table built before
    the model became incremental has no `inputs_loaded_through`: that build computes every row
    (and `on_schema_change='append_new_columns'` adds the column), the next ones are incremental.
#}
{% macro is_incremental_with_marks() -%}
    {%- if not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {{ return('inputs_loaded_through' in columns) }}
{%- endmacro %}
