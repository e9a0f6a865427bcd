{#
    The history of segment sizes: every build of a segment model appends (segment, as_of,
    members) to `segment_size_history` in the segments' schema, through the post-hook the
    segments folder sets in dbt_project.yml, so a new segment gets a history without any
    change elsewhere. dbt keeps no history of a table's size itself, and the engine's runs
    only see sizes when an activation plans. Rebuilding with the same as_of replaces that point.
#}
{% macro segment_size_history_relation(schema) -%}
    {{ return(api.Relation.create(schema=schema, identifier='segment_size_history')) }}
{%- endmacro %}

{% macro create_segment_size_history(schema) -%}
    {%- set relation = segment_size_history_relation(schema) -%}
    {%- if execute -%}
        {%- do adapter.create_schema(relation) -%}
    {%- endif -%}
    {{ return(adapter.dispatch('create_segment_size_history', 'tidemark')(relation)) }}
{%- endmacro %}

{% macro default__create_segment_size_history(relation) -%}
    create table if not exists {{ relation }} (
        segment varchar not null,
        measured_at timestamp not null,
        members bigint not null
    )
{%- endmacro %}

{% macro clickhouse__create_segment_size_history(relation) -%}
    create table if not exists {{ relation }} (
        segment String,
        measured_at DateTime64(6),
        members Int64
    ) engine = MergeTree order by (segment, measured_at)
{%- endmacro %}

{% macro segment_of(relation) -%}
    {{ return(relation.identifier | replace('segment_', '', 1)) }}
{%- endmacro %}

{# The hooks run one statement each: ClickHouse and Snowflake take no multi-statement text. #}
{% macro forget_segment_size() -%}
    delete from {{ segment_size_history_relation(this.schema) }}
    where segment = '{{ segment_of(this) }}' and measured_at = {{ as_of() }}
{%- endmacro %}

{% macro record_segment_size() -%}
    insert into {{ segment_size_history_relation(this.schema) }} (segment, measured_at, members)
    select '{{ segment_of(this) }}', {{ as_of() }}, count(*) from {{ this }}
{%- endmacro %}
