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

{#
    The table a contract creates on ClickHouse. dbt-clickhouse writes the yml's type nearly
    verbatim (dbt has already renamed timestamp to DateTime and integer to Int32), and
    ClickHouse reads `varchar` as String and DateTime as seconds: neither holds NULL
    (ClickHouse stores '' and 1970-01-01 instead) and DateTime drops the microseconds the
    models compute. Each portable type is given its ClickHouse column type here (timestamp and
    DateTime become DateTime64(6), like the tables the engine creates), Nullable unless the
    column carries a not_null constraint, so a table on ClickHouse holds what the same model
    holds on DuckDB and Snowflake. Any other type is kept as written, nullability aside.
#}
{% macro clickhouse_column_type(data_type, nullable) -%}
    {%- set written = (data_type or '') | trim -%}
    {%- set portable = written | lower | replace(' ', '') -%}
    {%- set names = {
        'varchar': 'String', 'text': 'String', 'string': 'String',
        'timestamp': 'DateTime64(6)', 'datetime': 'DateTime64(6)', 'boolean': 'Bool',
        'integer': 'Int32', 'int': 'Int32', 'int32': 'Int32', 'bigint': 'Int64',
        'double': 'Float64', 'date': 'Date',
    } -%}
    {%- if portable in names -%}
        {%- set type = names[portable] -%}
    {%- elif portable.startswith('decimal(') -%}
        {%- set type = 'Decimal' ~ portable[7:] -%}
    {%- else -%}
        {%- set type = written -%}
    {%- endif -%}
    {%- if nullable and not type.startswith('Nullable(') and not type.startswith('LowCardinality(') -%}
        {%- set type = 'Nullable(' ~ type ~ ')' -%}
    {%- endif -%}
    {{ return(type) }}
{%- endmacro %}

{% macro clickhouse__get_table_columns_and_constraints() -%}
    {%- set columns = [] -%}
    {%- for column in model['columns'].values() -%}
        {%- set constraints = column.get('constraints') or [] -%}
        {%- set not_null = constraints | selectattr('type', 'equalto', 'not_null') | list -%}
        {%- set type = clickhouse_column_type(column['data_type'], nullable=not not_null) -%}
        {%- do columns.append(adapter.quote(column['name']) ~ ' ' ~ type) -%}
    {%- endfor -%}
    ({{ columns | join(', ') }})
{%- endmacro %}
