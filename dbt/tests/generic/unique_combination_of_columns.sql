{#
    Fails for every combination of `combination_of_columns` that occurs more than once: the key
    test for models whose grain is a pair (profile x channel, channel x address). dbt-core has
    no built-in for it and the project takes no package dependencies.
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set key_columns = combination_of_columns | join(', ') -%}
    select
        {{ key_columns }},
        count(*) as occurrences
    from {{ model }}
    group by {{ key_columns }}
    having count(*) > 1
{% endtest %}
