{{ config(materialized='table', schema='analytics') }}

{%- set keys = ['experiment_id', 'variant', 'metric'] -%}
{%- set z_975 = 1.959963984540054 -%}
{%- set newton_steps = 4 %}

with recursive

experiments as (
    select * from {{ ref('stg_tidemark__experiments') }}
),

variant_stats as (
    select * from {{ ref('experiment_variant_stats') }}
),

-- The metrics an experiment can name, and which way is better.
metrics as (
    select
        'click' as metric,
        'binomial' as metric_type,
        true as higher_is_better
    union all
    select
        'conversion' as metric,
        'binomial' as metric_type,
        true as higher_is_better
    union all
    select
        'revenue' as metric,
        'mean' as metric_type,
        true as higher_is_better
    union all
    select
        'unsubscribe' as metric,
        'binomial' as metric_type,
        false as higher_is_better
    union all
    select
        'complaint' as metric,
        'binomial' as metric_type,
        false as higher_is_better
),

-- Every arm (holdout included) x the experiment's primary and guardrail metrics.
configured as (
    select
        e.experiment_id,
        e.variant,
        e.variant_order,
        e.is_holdout,
        e.is_control,
        e.weight,
        e.traffic_share,
        m.metric,
        m.metric_type,
        m.higher_is_better,
        case when m.metric = e.primary_metric then 'primary' else 'guardrail' end as metric_role
    from experiments as e
    inner join metrics as m
        on
            e.primary_metric = m.metric
            or position(',' || m.metric || ',' in ',' || e.guardrail_metrics || ',') > 0
),

arms as (
    select
        c.*,
        coalesce(s.users, 0) as users,  -- noqa: RF04
        coalesce(s.count, 0) as count,  -- noqa: RF04
        coalesce(s.sum, 0) as sum,  -- noqa: RF04
        coalesce(s.sum_squares, 0) as sum_squares,
        case when s.users > 0 then s.sum / s.users end as mean,
        case
            when s.users > 0 and c.metric_type = 'binomial'
                then (s.sum / s.users) * (1 - s.sum / s.users)
            when s.users > 1
                then (s.sum_squares - s.sum * s.sum / s.users) / (s.users - 1)
        end as variance
    from configured as c
    left join variant_stats as s
        on
            c.experiment_id = s.experiment_id
            and c.variant = s.variant
            and c.metric = s.metric
),

against_control as (
    select
        a.*,
        ctl.users as control_users,
        ctl.mean as control_mean,
        ctl.variance as control_variance,
        a.variance / a.users as variance_of_mean,
        ctl.variance / ctl.users as control_variance_of_mean,
        not a.is_control and a.users > 0 and ctl.users > 0 as is_compared
    from arms as a
    inner join arms as ctl
        on
            a.experiment_id = ctl.experiment_id
            and a.metric = ctl.metric
            and ctl.is_control
),

-- Relative lift and its delta-method variance; Welch's degrees of freedom.
lifts as (
    select
        *,
        case when is_compared then mean - control_mean end as absolute_lift,
        case when is_compared and control_mean != 0 then mean / control_mean - 1 end
            as relative_lift,
        case when is_compared and control_mean != 0 then
                variance_of_mean / (control_mean * control_mean)
                + control_variance_of_mean * mean * mean / power(control_mean, 4)
        end as lift_variance,
        case when
                is_compared and users > 1 and control_users > 1
                and variance_of_mean + control_variance_of_mean > 0
                then
                    power(variance_of_mean + control_variance_of_mean, 2) / (
                        variance_of_mean * variance_of_mean / (users - 1)
                        + control_variance_of_mean * control_variance_of_mean / (control_users - 1)
                    )
        end as welch_df
    from against_control
),

standardized as (
    select
        *,
        case when lift_variance > 0 then sqrt(lift_variance) end as lift_se,
        case when lift_variance > 0 then relative_lift / sqrt(lift_variance) end as z,
        case when lift_variance > 0 then abs(relative_lift) / sqrt(lift_variance) end as abs_z
    from lifts
),

normal_roots as (
    select
        *,
        abs_z * 0.70710678118654752 as abs_z_root
    from standardized
),

normal_tails as (
    select
        *,
        -- Phi(-|z|), the posterior's mass on the far side of zero.
        0.5 * {{ stats_erfc('abs_z_root') }} as far_tail
    from normal_roots
),

-- Gaussian posterior of the relative lift under a flat prior: N(lift, se^2).
bayesian as (
    select
        *,
        case
            when z is null then null
            when (higher_is_better and z >= 0) or (not higher_is_better and z <= 0)
                then 1 - far_tail
            else far_tail
        end as chance_to_beat_control,
        relative_lift - {{ z_975 }} * lift_se as credible_interval_low,
        relative_lift + {{ z_975 }} * lift_se as credible_interval_high,
        -- E[max(0, -X)] (E[max(0, X)] when lower is better), X ~ N(lift, se^2).
        lift_se * exp(-z * z / 2) * 0.39894228040143268 - abs(relative_lift) * far_tail
        + case
            when (higher_is_better and z < 0) or (not higher_is_better and z > 0)
                then abs(relative_lift)
            else 0
        end as expected_loss
    from normal_tails
),

-- Welch's test on the relative lift: p-value from Student's t at Welch's df ...
welch_inputs as (
    select
        {{ keys | join(', ') }},
        abs_z,
        welch_df
    from bayesian
    where abs_z is not null and welch_df is not null
),

{{ stats_student_t_tail_ctes('welch_tail', 'welch_inputs', keys, 'abs_z', 'welch_df') }},

-- ... and the 97.5% quantile of that t for the interval: Newton's method on log tail
-- against log t, from the Cornish-Fisher expansion (Abramowitz & Stegun 26.7.5).
quantile_0 as (
    select
        {{ keys | join(', ') }},
        welch_df as nu,
        {%- set z = z_975 %}
        {{ z }}
        + {{ (z ** 3 + z) / 4 }} / welch_df
        + {{ (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96 }} / (welch_df * welch_df)
        + {{ (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384 }}
        / (welch_df * welch_df * welch_df)
        + {{ (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160 }}
        / (welch_df * welch_df * welch_df * welch_df) as t
    from welch_inputs
),

{% for step in range(newton_steps) %}
    {{ stats_student_t_tail_ctes('quantile_tail_' ~ step, 'quantile_' ~ step, keys, 't', 'nu') }},

    quantile_{{ step + 1 }} as (
        select
            q.experiment_id,
            q.variant,
            q.metric,
            q.nu,
            q.t * exp(
                (ln(q.tail) - ln(0.05)) * q.tail
                / (2 * q.t * exp(
                    q.log_gamma_ratio - 0.5 * ln(q.nu * 3.14159265358979324)
                    - (q.nu + 1) / 2 * {{ stats_log1p('q.t * q.t / q.nu') }}
                ))
            ) as t
        from quantile_tail_{{ step }} as q
    ),
{% endfor %}

srm_counts as (
    select
        experiment_id,
        variant,
        max(traffic_share) as traffic_share,
        max(users) as users  -- noqa: RF04
    from arms
    group by experiment_id, variant
),

srm_totals as (
    select
        experiment_id,
        sum(users) as total
    from srm_counts
    group by experiment_id
),

-- Chi-square goodness of fit of the arms' users against their configured traffic shares.
srm_statistics as (
    select
        c.experiment_id,
        sum(
            (c.users - t.total * c.traffic_share) * (c.users - t.total * c.traffic_share)
            / (t.total * c.traffic_share)
        ) as chi_square,
        count(*) - 1 as degrees_of_freedom,
        sqrt(
            sum(
                (c.users - t.total * c.traffic_share) * (c.users - t.total * c.traffic_share)
                / (t.total * c.traffic_share)
            ) / 2
        ) as chi_square_root
    from srm_counts as c
    inner join srm_totals as t
        on c.experiment_id = t.experiment_id
    where t.total > 0
    group by c.experiment_id
),

srm_roots as (
    select
        *,
        {{ stats_erfc('chi_square_root') }} as erfc_of_root
    from srm_statistics
),

srm as (
    select
        experiment_id,
        {{ stats_chi_square_sf('chi_square', 'degrees_of_freedom', 'erfc_of_root') }}
            as srm_p_value
    from srm_roots
),

final as (
    -- Join keys are named explicitly: ClickHouse names a selected b.x 'b.x' after a join.
    select
        b.experiment_id as experiment_id,  -- noqa: AL09
        b.variant as variant,  -- noqa: AL09
        b.is_control,
        b.is_holdout,
        b.variant_order,
        b.weight,
        b.traffic_share,
        b.metric as metric,  -- noqa: AL09
        b.metric_type,
        b.metric_role,
        b.higher_is_better,
        b.users,
        b.count,
        b.sum,
        b.sum_squares,
        b.mean,
        b.variance,
        b.control_mean,
        b.absolute_lift,
        b.relative_lift,
        b.chance_to_beat_control,
        b.credible_interval_low,
        b.credible_interval_high,
        b.expected_loss,
        case when b.abs_z = 0 and b.welch_df is not null then 1 else w.tail end as p_value,
        b.welch_df,
        b.relative_lift - q.t * b.lift_se as confidence_interval_low,
        b.relative_lift + q.t * b.lift_se as confidence_interval_high,
        srm.srm_p_value
    from bayesian as b
    left join welch_tail as w
        on
            b.experiment_id = w.experiment_id
            and b.variant = w.variant
            and b.metric = w.metric
    left join quantile_{{ newton_steps }} as q
        on
            b.experiment_id = q.experiment_id
            and b.variant = q.variant
            and b.metric = q.metric
    left join srm
        on b.experiment_id = srm.experiment_id
)

select * from final
