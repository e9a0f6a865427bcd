{#
    Distribution functions for the experiment statistics, in plain SQL every engine runs
    (arithmetic, exp, ln, sqrt, power, abs, case): no engine has Student's t or an erfc of
    its own in common. Each macro's argument must be a column or a simple expression: it is
    repeated many times in the generated text, so compute it once in an earlier CTE.
    Accuracy (checked against scipy.stats in tests/dbt/test_experiment_statistics.py): about
    1e-14 relative for stats_erfc and stats_log1p, 1e-13 for the t and chi-square tails.
#}

{#
    ln(1 + y), accurate for small y (Kahan's trick: the rounding of 1 + y is divided out);
    engines without log1p lose relative accuracy there otherwise.
#}
{% macro stats_log1p(y) -%}
    (case when 1 + ({{ y }}) = 1 then ({{ y }})
        else ln(1 + ({{ y }})) * ({{ y }}) / ((1 + ({{ y }})) - 1) end)
{%- endmacro %}

{#
    erfc(x) for x >= 0 (x a column). Below 2: 1 - erf(x) with
    erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (2n+1)!!  (45 terms, all positive).
    From 2: erfc(x) = exp(-x^2)/sqrt(pi) / F(x), F the continued fraction
    x + (1/2)/(x + 1/(x + (3/2)/(x + ...))), taken to its 60th convergent A/B. A and B are
    polynomials in x with positive coefficients (A_n = x A_(n-1) + (n/2) A_(n-2)), computed
    here at compile time, so the SQL is two flat sums (no deep nesting) without cancellation.
    Beyond 26.5, where erfc < 1e-307, the asymptotic series' first terms.
#}
{% macro stats_erfc(x) -%}
    {%- set series_terms = 45 -%}
    {%- set fraction_terms = 60 -%}
    {%- set series = namespace(text='', coefficient=1.0) -%}
    {%- for n in range(series_terms) -%}
        {%- set series.text = series.text ~ ' + %.17g * power(%s, %d)' % (series.coefficient, x, 2 * n + 1) -%}
        {%- set series.coefficient = series.coefficient * 2 / (2 * n + 3) -%}
    {%- endfor -%}
    {#- A_(-1) = 1, A_0 = x; B_(-1) = 0, B_0 = 1 (coefficients by rising power of x) -#}
    {%- set cf = namespace(a_before=[1.0], a=[0.0, 1.0], b_before=[0.0], b=[1.0]) -%}
    {%- for n in range(1, fraction_terms + 1) -%}
        {%- set a_next = [] -%}
        {%- set b_next = [] -%}
        {%- for i in range(cf.a | length + 1) -%}
            {%- do a_next.append((cf.a[i - 1] if i > 0 else 0.0) + (n / 2 * cf.a_before[i] if i < cf.a_before | length else 0.0)) -%}
        {%- endfor -%}
        {%- for i in range(cf.b | length + 1) -%}
            {%- do b_next.append((cf.b[i - 1] if i > 0 else 0.0) + (n / 2 * cf.b_before[i] if i < cf.b_before | length else 0.0)) -%}
        {%- endfor -%}
        {%- set cf.a_before = cf.a -%}
        {%- set cf.a = a_next -%}
        {%- set cf.b_before = cf.b -%}
        {%- set cf.b = b_next -%}
    {%- endfor -%}
    {%- set numerator = namespace(text='0') -%}
    {%- for i in range(cf.b | length) -%}
        {%- if cf.b[i] != 0 -%}
            {%- set numerator.text = numerator.text ~ ' + %.17g * power(%s, %d)' % (cf.b[i], x, i) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set denominator = namespace(text='0') -%}
    {%- for i in range(cf.a | length) -%}
        {%- if cf.a[i] != 0 -%}
            {%- set denominator.text = denominator.text ~ ' + %.17g * power(%s, %d)' % (cf.a[i], x, i) -%}
        {%- endif -%}
    {%- endfor -%}
    (case
        when ({{ x }}) < 2
            then 1 - 1.1283791670955126 * exp(-({{ x }}) * ({{ x }})) * (0{{ series.text }})
        when ({{ x }}) < 26.5
            then exp(-({{ x }}) * ({{ x }})) * 0.56418958354775628
            * ({{ numerator.text }}) / ({{ denominator.text }})
        else exp(-({{ x }}) * ({{ x }})) * 0.56418958354775628 / ({{ x }})
            * (1 - 0.5 / power({{ x }}, 2) + 0.75 / power({{ x }}, 4))
    end)
{%- endmacro %}

{#
    ln Gamma(a + 1/2) - ln Gamma(a) for a > 0, without the cancellation of two large
    lgamma values: Stirling's series for the difference at a + 10, then ten exact
    recurrence steps down (ln Gamma(z + 1) = ln Gamma(z) + ln z).
#}
{% macro stats_log_gamma_half_ratio(a) -%}
    {%- set b = '((' ~ a ~ ') + 10)' -%}
    {%- set bh = '((' ~ a ~ ') + 10.5)' -%}
    {%- set corrections = [(1, 12), (-1, 360), (1, 1260), (-1, 1680), (1, 1188), (-691, 360360), (1, 156)] -%}
    ({{ b }} * {{ stats_log1p('0.5 / ' ~ b) }} + 0.5 * ln({{ b }}) - 0.5
    {%- for numerator, denominator in corrections %}
        {%- set power = 2 * loop.index - 1 %}
        + {{ numerator }}.0 / {{ denominator }}.0 * (1 / power({{ bh }}, {{ power }}) - 1 / power({{ b }}, {{ power }}))
    {%- endfor %}
    {%- for j in range(10) %}
        - {{ stats_log1p('0.5 / ((' ~ a ~ ') + ' ~ j ~ ')') }}
    {%- endfor %})
{%- endmacro %}

{#
    P(X >= x) for chi-square with an integer number of degrees of freedom k (1 to 40):
    the closed forms, e^(-x/2) sum_j (x/2)^j / j! for even k, and
    erfc(sqrt(x/2)) + e^(-x/2) sum_j (x/2)^(j+1/2) / Gamma(j + 3/2) for odd k.
    `erfc_of_root` is stats_erfc(sqrt(x/2)), computed by the caller in an earlier CTE.
#}
{% macro stats_chi_square_sf(x, k, erfc_of_root) -%}
    {%- set factorial = namespace(value=1.0) -%}
    {%- set half_gamma = namespace(value=0.88622692545275801) -%}
    (case when ({{ k }}) % 2 = 0 then exp(-({{ x }}) / 2) * (0
    {%- for j in range(20) %}
        + case when {{ j }} < ({{ k }}) / 2 then power(({{ x }}) / 2, {{ j }}) / {{ '%.17g' % factorial.value }} else 0 end
        {%- set factorial.value = factorial.value * (j + 1) -%}
    {%- endfor %})
    else ({{ erfc_of_root }}) + exp(-({{ x }}) / 2) * (0
    {%- for j in range(20) %}
        + case when {{ j }} < (({{ k }}) - 1) / 2 then power(({{ x }}) / 2, {{ j }} + 0.5) / {{ '%.17g' % half_gamma.value }} else 0 end
        {%- set half_gamma.value = half_gamma.value * (j + 1.5) -%}
    {%- endfor %})
    end)
{%- endmacro %}

{#
    A recursive CTE `name` evaluating, for each row of `source` (columns: the `keys`, p, q, z),
    the continued fraction of the regularized incomplete beta I_z(p, q) by Lentz's method
    (Numerical Recipes 6.4), one partial numerator per step, until two steps agree to 1e-15.
    Its rows with `converged` hold the fraction in `h`. Needs `with recursive` at the top
    of the model. Converges quickly for z < (p + 1) / (p + q + 2); callers use the
    symmetry I_z(p, q) = 1 - I_(1-z)(q, p) otherwise.
#}
{% macro stats_beta_continued_fraction(name, source, keys) -%}
    {%- set key_list = keys | join(', ') -%}
    {%- set m = '((s.k + 1) % 2 + (s.k + 1)) / 2.0' -%}
    {%- set step = '(case when (s.k + 1) % 2 = 1
            then ' ~ m ~ ' * (s.q - ' ~ m ~ ') * s.z / ((s.p - 1 + 2 * ' ~ m ~ ') * (s.p + 2 * ' ~ m ~ '))
            else -(s.p + ' ~ m ~ ') * (s.p + s.q + ' ~ m ~ ') * s.z / ((s.p + 2 * ' ~ m ~ ') * (s.p + 1 + 2 * ' ~ m ~ '))
        end)' -%}
    {{ name }} as (
        select
            {{ key_list }}, p, q, z,
            0 as k,
            cast(1 as double) as c,
            cast(1 / (1 - (p + q) * z / (p + 1)) as double) as d,
            cast(1 / (1 - (p + q) * z / (p + 1)) as double) as h,
            false as converged
        from {{ source }}
        union all
        select
            {% for key in keys %}s.{{ key }}, {% endfor %}s.p, s.q, s.z,
            s.k + 1,
            1 + {{ step }} / s.c,
            1 / (1 + {{ step }} * s.d),
            s.h * (1 / (1 + {{ step }} * s.d)) * (1 + {{ step }} / s.c),
            (s.k + 1) % 2 = 0
            and abs((1 / (1 + {{ step }} * s.d)) * (1 + {{ step }} / s.c) - 1) < 1e-15
        from {{ name }} as s
        where not s.converged and s.k < 200000
    )
{%- endmacro %}
