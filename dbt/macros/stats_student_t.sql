{#
    CTEs giving P(|T| >= t) for Student's t with real degrees of freedom nu, for each row of
    `source` (its `keys`, a column `t` >= 0 and a column `nu` > 0). The tail is the
    regularized incomplete beta I_x(nu/2, 1/2) with x = nu / (nu + t^2), from its continued
    fraction (stats_beta_continued_fraction), directly when it converges fast and through
    I_x(a, b) = 1 - I_(1-x)(b, a) otherwise. Emits `<name>_input`, `<name>_fraction_input`,
    `<name>_fraction` (recursive) and `<name>`: keys, t, nu, log_gamma_ratio
    (ln Gamma((nu + 1)/2) - ln Gamma(nu/2), for the density) and tail. Rows with t = 0 (tail 1)
    are left out.
#}
{% macro stats_student_t_tail_ctes(name, source, keys, t, nu) -%}
    {%- set key_list = keys | join(', ') -%}
    {{ name }}_input as (
        select
            {{ key_list }},
            {{ t }} as t,
            {{ nu }} as nu,
            {{ nu }} / 2 as a,
            {{ nu }} / ({{ nu }} + {{ t }} * {{ t }}) as x,
            {{ t }} * {{ t }} / ({{ nu }} + {{ t }} * {{ t }}) as y
        from {{ source }}
        where {{ t }} > 0 and {{ nu }} > 0
    ),

    {{ name }}_front as (
        select
            *,
            x < (a + 1) / (a + 2.5) as is_direct,
            {{ stats_log_gamma_half_ratio('a') }} as log_gamma_ratio
        from {{ name }}_input
    ),

    {{ name }}_fraction_input as (
        select
            {{ key_list }},
            case when is_direct then a else 0.5 end as p,
            case when is_direct then 0.5 else a end as q,
            case when is_direct then x else y end as z
        from {{ name }}_front
    ),

    {{ stats_beta_continued_fraction(name ~ '_fraction', name ~ '_fraction_input', keys) }},

    {{ name }} as (
        select
            {% for key in keys %}f.{{ key }}, {% endfor %}
            f.t,
            f.nu,
            f.log_gamma_ratio,
            case
                when f.is_direct then exp(log_front) * c.h / f.a
                else 1 - exp(log_front) * c.h / 0.5
            end as tail
        from (
            select
                *,
                -a * {{ stats_log1p('t * t / nu') }} + 0.5 * ln(y) - 0.57236494292470008
                + log_gamma_ratio as log_front
            from {{ name }}_front
        ) as f
        inner join {{ name }}_fraction as c
            on
                c.converged
                {% for key in keys %}and f.{{ key }} = c.{{ key }}
                {% endfor %}
    )
{%- endmacro %}
