"""The Python reference of the experiment statistics against scipy.stats on textbook cases."""

import math

import pytest
from scipy import stats

from tests.activation.experiments.stats_reference import (
    Arm,
    chi_square_sf,
    compare,
    normal_cdf,
    srm_p_value,
    student_t_quantile_975,
    student_t_two_sided_p,
)


@pytest.mark.parametrize("z", [-30, -8.5, -3, -1.2, 0, 0.4, 2.5, 7, 35])
def test_normal_cdf(z):
    assert normal_cdf(z) == pytest.approx(stats.norm.cdf(z), rel=1e-13)


@pytest.mark.parametrize(
    ("t", "df"),
    [
        (0.0, 3),
        (0.5, 1),
        (1.0, 2.5),
        (2.0, 7.3),
        (2.2, 20),
        (10, 3),
        (40, 50.5),
        (3, 1e5),
        (1.8, 1e6),
        (0.3, 1e6),
        (8, 2e4),
    ],
)
def test_student_t_two_sided_p(t, df):
    assert student_t_two_sided_p(t, df) == pytest.approx(2 * stats.t.sf(t, df), rel=1e-9)


@pytest.mark.parametrize("df", [1, 1.3, 2, 2.7, 5, 10, 30, 100, 1e3, 1e4, 1e5, 1e6])
def test_student_t_quantile(df):
    assert student_t_quantile_975(df) == pytest.approx(stats.t.ppf(0.975, df), rel=1e-9)


@pytest.mark.parametrize(
    ("x", "k"), [(0, 1), (0.5, 1), (3.84, 1), (5.99, 2), (12, 5), (30, 9), (200, 3), (1.0, 10)]
)
def test_chi_square_sf(x, k):
    assert chi_square_sf(x, k) == pytest.approx(stats.chi2.sf(x, k), rel=1e-12, abs=1e-300)


def test_srm_is_scipy_chisquare():
    users, shares = [5100, 4900, 1050], [0.45, 0.45, 0.1]
    expected = [sum(users) * s for s in shares]
    assert srm_p_value(users, shares) == pytest.approx(
        stats.chisquare(users, expected).pvalue, rel=1e-12
    )


def test_welch_on_the_relative_lift_matches_scipy_on_the_delta_method_scale():
    """With the delta-method standard error, the Welch test is scipy's t distribution at
    Welch's degrees of freedom; the Bayesian figures are the normal posterior's."""
    control = Arm(users=1000, total=100, total_squares=100, binomial=True)
    treatment = Arm(users=1100, total=140, total_squares=140, binomial=True)
    result = compare(treatment, control)

    pc, pt = 0.1, 140 / 1100
    se = math.sqrt(pt * (1 - pt) / (1100 * pc**2) + pc * (1 - pc) * pt**2 / (1000 * pc**4))
    lift = pt / pc - 1
    vt, vc = pt * (1 - pt) / 1100, pc * (1 - pc) / 1000
    df = (vt + vc) ** 2 / (vt**2 / 1099 + vc**2 / 999)
    assert result.relative_lift == pytest.approx(lift, rel=1e-14)
    assert result.p_value == pytest.approx(2 * stats.t.sf(lift / se, df), rel=1e-9)
    half = stats.t.ppf(0.975, df) * se
    assert result.confidence_interval_low == pytest.approx(lift - half, rel=1e-9)
    posterior = stats.norm(lift, se)
    assert result.chance_to_beat_control == pytest.approx(posterior.sf(0), rel=1e-12)
    assert result.credible_interval_high == pytest.approx(posterior.ppf(0.975), rel=1e-12)
    loss = posterior.expect(lambda x: max(0.0, -x))
    assert result.expected_loss == pytest.approx(loss, rel=1e-6)


def test_lower_is_better_turns_chance_and_loss_around():
    control = Arm(users=5000, total=50, total_squares=50, binomial=True)
    treatment = Arm(users=5000, total=30, total_squares=30, binomial=True)
    result = compare(treatment, control, higher_is_better=False)
    posterior = stats.norm(
        result.relative_lift,
        (result.credible_interval_high - result.relative_lift) / 1.959963984540054,
    )
    assert result.chance_to_beat_control == pytest.approx(posterior.cdf(0), rel=1e-12)
    assert result.expected_loss == pytest.approx(posterior.expect(lambda x: max(0.0, x)), rel=1e-6)


def test_mean_metric_uses_the_sample_variance():
    values_c = [0, 0, 10, 25.5, 0, 3]
    values_t = [0, 12, 30, 0, 0, 8, 1]
    control = Arm(len(values_c), sum(values_c), sum(v * v for v in values_c), binomial=False)
    treatment = Arm(len(values_t), sum(values_t), sum(v * v for v in values_t), binomial=False)
    assert control.variance == pytest.approx(stats.tvar(values_c), rel=1e-12)
    welch = stats.ttest_ind(values_t, values_c, equal_var=False)
    # On the absolute scale the same machinery gives scipy's Welch test exactly.
    vt, vc = treatment.variance / treatment.users, control.variance / control.users
    df = (vt + vc) ** 2 / (vt**2 / (treatment.users - 1) + vc**2 / (control.users - 1))
    t = (treatment.mean - control.mean) / math.sqrt(vt + vc)
    assert student_t_two_sided_p(abs(t), df) == pytest.approx(welch.pvalue, rel=1e-9)
    assert compare(treatment, control).p_value is not None


def test_undefined_figures_are_none():
    zero = Arm(100, 0, 0, binomial=True)
    assert compare(Arm(100, 5, 5, binomial=True), zero).relative_lift is None
    everyone = Arm(50, 50, 50, binomial=True)
    assert compare(everyone, everyone).p_value is None
    assert compare(Arm(1, 3.0, 9.0, False), Arm(5, 5.0, 9.0, False)).p_value is None
