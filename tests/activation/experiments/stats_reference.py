"""The experiment statistics in plain Python: the reference the SQL models are checked against.

Same formulas as dbt/macros/stats_*.sql and experiment_results.sql, written independently:
distribution functions come from `math` (erfc, lgamma, log1p) and a textbook Lentz continued
fraction for the regularized incomplete beta; test_stats_reference.py checks them against
scipy.stats. Tests only: the product computes these in the warehouse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_975 = 1.959963984540054  # the standard normal's 97.5% quantile


def normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2))


def normal_pdf(z: float) -> float:
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def _beta_continued_fraction(p: float, q: float, x: float) -> float:
    """Lentz's evaluation of the incomplete beta continued fraction (Numerical Recipes 6.4)."""
    c, d = 1.0, 1 / (1 - (p + q) * x / (p + 1))
    h, k = d, 0
    while k < 100_000:
        k += 1
        if k % 2:
            m = (k + 1) // 2
            aa = m * (q - m) * x / ((p - 1 + 2 * m) * (p + 2 * m))
        else:
            m = k // 2
            aa = -(p + m) * (p + q + m) * x / ((p + 2 * m) * (p + 1 + 2 * m))
        d = 1 / (1 + aa * d)
        c = 1 + aa / c
        h *= d * c
        if k % 2 == 0 and abs(d * c - 1) < 1e-15:
            return h
    raise ArithmeticError("the continued fraction did not converge")


def student_t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with `df` (real) degrees of freedom: I_x(df/2, 1/2)."""
    a, x = df / 2, df / (df + t * t)
    if t == 0:
        return 1.0
    log_front = (
        -a * math.log1p(t * t / df)
        + 0.5 * math.log(t * t / (df + t * t))
        - math.lgamma(a)
        - math.lgamma(0.5)
        + math.lgamma(a + 0.5)
    )
    if x < (a + 1) / (a + 2.5):
        return math.exp(log_front) * _beta_continued_fraction(a, 0.5, x) / a
    return 1 - math.exp(log_front) * _beta_continued_fraction(0.5, a, 1 - x) / 0.5


def student_t_pdf(t: float, df: float) -> float:
    return math.exp(
        math.lgamma((df + 1) / 2)
        - math.lgamma(df / 2)
        - 0.5 * math.log(df * math.pi)
        - (df + 1) / 2 * math.log1p(t * t / df)
    )


def student_t_quantile_975(df: float) -> float:
    """t with P(T <= t) = 0.975: Newton's method on log P(|T| >= t) against log t."""
    t = Z_975 + sum(
        g / df**k
        for k, g in enumerate(
            (
                (Z_975**3 + Z_975) / 4,
                (5 * Z_975**5 + 16 * Z_975**3 + 3 * Z_975) / 96,
                (3 * Z_975**7 + 19 * Z_975**5 + 17 * Z_975**3 - 15 * Z_975) / 384,
                (79 * Z_975**9 + 776 * Z_975**7 + 1482 * Z_975**5 - 1920 * Z_975**3 - 945 * Z_975)
                / 92160,
            ),
            start=1,
        )
    )
    for _ in range(6):
        tail = student_t_two_sided_p(t, df)
        t *= math.exp((math.log(tail) - math.log(0.05)) * tail / (2 * t * student_t_pdf(t, df)))
    return t


def chi_square_sf(x: float, k: int) -> float:
    """P(X >= x) for chi-square with integer k degrees of freedom (closed form)."""
    h = x / 2
    if k % 2 == 0:
        return math.exp(-h) * sum(h**j / math.factorial(j) for j in range(k // 2))
    return math.erfc(math.sqrt(h)) + math.exp(-h) * sum(
        h ** (j + 0.5) / math.gamma(j + 1.5) for j in range((k - 1) // 2)
    )


@dataclass(frozen=True)
class Arm:
    """Sufficient statistics of one arm for one metric."""

    users: int
    total: float  # sum
    total_squares: float  # sum_squares
    binomial: bool

    @property
    def mean(self) -> float:
        return self.total / self.users

    @property
    def variance(self) -> float | None:
        if self.binomial:
            return self.mean * (1 - self.mean)
        if self.users < 2:
            return None
        return (self.total_squares - self.total**2 / self.users) / (self.users - 1)


@dataclass(frozen=True)
class Comparison:
    absolute_lift: float | None = None
    relative_lift: float | None = None
    chance_to_beat_control: float | None = None
    credible_interval_low: float | None = None
    credible_interval_high: float | None = None
    expected_loss: float | None = None
    p_value: float | None = None
    confidence_interval_low: float | None = None
    confidence_interval_high: float | None = None


def compare(treatment: Arm, control: Arm, *, higher_is_better: bool = True) -> Comparison:
    """Relative lift of `treatment` over `control`: Bayesian (flat prior) and Welch figures."""
    if treatment.users == 0 or control.users == 0:
        return Comparison()
    absolute = treatment.mean - control.mean
    vt, vc = treatment.variance, control.variance
    if control.mean == 0:
        return Comparison(absolute_lift=absolute)
    lift = treatment.mean / control.mean - 1
    if vt is None or vc is None:
        return Comparison(absolute_lift=absolute, relative_lift=lift)
    variance = vt / (treatment.users * control.mean**2) + vc * treatment.mean**2 / (
        control.users * control.mean**4
    )
    if variance <= 0:
        return Comparison(absolute_lift=absolute, relative_lift=lift)
    se = math.sqrt(variance)
    z = lift / se
    gain = z if higher_is_better else -z
    loss = se * normal_pdf(z) - abs(lift) * normal_cdf(-abs(z))
    # E[max(0, -X)] (or E[max(0, X)] when lower is better), X ~ N(lift, se^2): the loss is
    # se*pdf(z) - lift*cdf(-z) when winning means up; written with |lift| it also covers the
    # side where the variant is behind, where the loss is the lag itself plus that term.
    if gain < 0:
        loss += abs(lift)
    result = Comparison(
        absolute_lift=absolute,
        relative_lift=lift,
        chance_to_beat_control=normal_cdf(gain),
        credible_interval_low=lift - Z_975 * se,
        credible_interval_high=lift + Z_975 * se,
        expected_loss=loss,
    )
    st, sc = vt / treatment.users, vc / control.users
    if treatment.users < 2 or control.users < 2:
        return result
    df = (st + sc) ** 2 / (st**2 / (treatment.users - 1) + sc**2 / (control.users - 1))
    quantile = student_t_quantile_975(df)
    return Comparison(
        **{
            **result.__dict__,
            "p_value": student_t_two_sided_p(abs(z), df),
            "confidence_interval_low": lift - quantile * se,
            "confidence_interval_high": lift + quantile * se,
        }
    )


def srm_p_value(users: list[int], shares: list[float]) -> float:
    total = sum(users)
    statistic = sum((n - total * s) ** 2 / (total * s) for n, s in zip(users, shares, strict=True))
    return chi_square_sf(statistic, len(users) - 1)
