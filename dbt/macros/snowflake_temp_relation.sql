{#
    Temporary relations on Snowflake stand-ins. fakesnow (the tests' Snowflake) accepts a
    temporary table only by a bare name, while dbt-snowflake qualifies it with database and
    schema. With the var `unqualified_temp_relations` set (the tests set it), temporary
    relations are named bare, which real Snowflake accepts too (they live in the session's
    schema); without it, dbt-snowflake's own naming is kept unchanged.
#}
{% macro snowflake__make_temp_relation(base_relation, suffix='__dbt_tmp') %}
    {%- set temp_relation = default__make_temp_relation(base_relation, suffix) -%}
    {%- if var('unqualified_temp_relations', false) -%}
        {%- set temp_relation = temp_relation.incorporate(
            path={"database": none, "schema": none}
        ) -%}
    {%- endif -%}
    {{ return(temp_relation) }}
{% endmacro %}
