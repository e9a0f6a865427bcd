{#
    Money, the same to the cent on every engine. Raw amounts arrive as doubles (12.37 is
    stored as 12.3699999…), and the engines turn a double into decimal(18, 2) differently:
    DuckDB and Snowflake round, ClickHouse cuts (12.36). Averages differ the same way: a
    decimal divided by a count stays a decimal cut to two places on ClickHouse but becomes a
    double on DuckDB, and ClickHouse rounds a tie to even where DuckDB rounds it away from
    zero. So money is computed in cents: any number of cents, whole or not, is rounded half up
    to a whole cent with floor(x + 0.5) (identical on every engine) and only that whole number
    is made a decimal, which every engine does exactly.
#}
{% macro cents_to_money(cents) -%}
    cast(cast(cast(floor({{ cents }} + 0.5) as bigint) as decimal(18, 2)) / 100 as decimal(18, 2))
{%- endmacro %}
