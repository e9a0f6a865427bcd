{#
    Contracts on ClickHouse. The models' yml declares portable types (varchar, timestamp,
    boolean, integer, decimal(18, 2)) that DuckDB and Snowflake check as written;
    dbt-clickhouse compares them verbatim with ClickHouse's own names (Nullable(String),
    DateTime64(6), UInt8), so every contract would fail. Here ClickHouse's type is first put
    in portable terms (nullability aside: contracts state it with not_null constraints and
    tests), and so is the declared type (dbt-clickhouse has already turned some of those into
    ClickHouse names: timestamp → DateTime); then names, count and types are compared.
#}
{% macro clickhouse_portable_type(data_type) -%}
    {%- set type = data_type | trim -%}
    {#- Not a loop: a variable set inside a Jinja loop is lost when the loop ends. -#}
    {%- if type.startswith('LowCardinality(') and type.endswith(')') -%}
        {%- set type = type[15:-1] -%}
    {%- endif -%}
    {%- if type.startswith('Nullable(') and type.endswith(')') -%}
        {%- set type = type[9:-1] -%}
    {%- endif -%}
    {%- set names = {
        'String': 'varchar', 'Bool': 'boolean', 'UInt8': 'boolean', 'Int32': 'integer',
        'Int64': 'bigint', 'Float64': 'double', 'Date': 'date', 'DateTime': 'timestamp',
    } -%}
    {%- if type.startswith('DateTime64') -%}
        {{ return('timestamp') }}
    {%- elif type.startswith('Decimal') -%}
        {{ return(type | lower) }}
    {%- endif -%}
    {{ return(names.get(type, type | lower)) }}
{%- endmacro %}

{% macro clickhouse__get_assert_columns_equivalent(sql) -%}
    {%- set yaml_columns = model['columns'].values() | list -%}
    {%- if not yaml_columns -%}
        {{ exceptions.raise_contract_error([], []) }}
    {%- endif -%}
    {%- set query_settings = config.get('query_settings', {}) or {} -%}
    {%- set sql_columns = adapter.format_columns(
        adapter.get_column_schema_from_query(sql, query_settings=query_settings)
    ) -%}
    {%- if sql_columns | length != yaml_columns | length -%}
        {%- do exceptions.raise_contract_error(yaml_columns, sql_columns) -%}
    {%- endif -%}
    {%- for sql_col in sql_columns -%}
        {%- set matching = yaml_columns | selectattr('name', 'equalto', sql_col['name']) | list -%}
        {%- if not matching -%}
            {%- do exceptions.raise_contract_error(yaml_columns, sql_columns) -%}
        {%- endif -%}
        {%- set declared = clickhouse_portable_type(matching[0]['data_type'] or '') | replace(' ', '') -%}
        {%- set actual = clickhouse_portable_type(sql_col['data_type']) | replace(' ', '') -%}
        {%- if declared != actual -%}
            {%- do exceptions.raise_contract_error(yaml_columns, sql_columns) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
