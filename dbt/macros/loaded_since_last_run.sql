{#
    Filter for an incremental model fed by a raw table: the rows of loads this model has not
    processed yet. A load is one landing file (`landing_key`) stamped with one `loaded_at`.

    Rows stamped after the model's newest `loaded_at` are new. Rows stamped exactly at that
    instant may be a load that shared the timestamp, so they count as new unless their landing
    key is already in the model. A plain `>=` was correct but reprocessed the whole newest load
    on every run: after the demo's initial load that is every message event, each build.
#}
{% macro loaded_since_last_run(source_alias=none, loaded_at='loaded_at', landing_key='landing_key') -%}
    {%- set prefix = source_alias ~ '.' if source_alias else '' -%}
    (
        {{ prefix }}{{ loaded_at }} > (select max(seen.{{ loaded_at }}) from {{ this }} as seen)
        or (
            {{ prefix }}{{ loaded_at }} = (select max(seen.{{ loaded_at }}) from {{ this }} as seen)
            and {{ prefix }}{{ landing_key }} not in (
                select seen.{{ landing_key }}
                from {{ this }} as seen
                where
                    seen.{{ loaded_at }}
                    = (select max(newest.{{ loaded_at }}) from {{ this }} as newest)
            )
        )
    )
{%- endmacro %}
