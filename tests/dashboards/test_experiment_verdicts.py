"""The plain-language verdicts on experiment results."""

from dashboards.experiment_verdicts import group_results, verdict


def row(variant, metric="click", *, control=False, chance=None, srm=0.5):
    return {
        "experiment_id": "subject_test",
        "variant": variant,
        "is_control": control,
        "metric": metric,
        "users": 1000,
        "mean": 0.05,
        "relative_lift": None if control else 0.1,
        "credible_interval_low": None if control else -0.05,
        "credible_interval_high": None if control else 0.25,
        "chance_to_beat_control": chance,
        "srm_p_value": srm,
    }


def test_verdicts_follow_the_chance_to_beat_control():
    assert verdict("b", "a", "click", 0.97).startswith("b is very likely better than a on click")
    assert verdict("b", "a", "click", 0.03).startswith("b is very likely worse than a on click")
    assert verdict("b", "a", "click", 0.6).startswith("No clear winner yet: b has a 60% chance")
    assert verdict("b", "a", "click", None) == "Not enough data yet to compare b with a."


def test_results_group_per_experiment_and_metric_against_their_control():
    results = group_results(
        [
            row("holdout", control=True),
            row("a", chance=0.99),
            row("b", chance=0.4),
            row("holdout", "revenue", control=True),
            row("a", "revenue", chance=0.5),
        ]
    )
    assert [(r.metric, r.control) for r in results] == [
        ("click", "holdout"),
        ("revenue", "holdout"),
    ]
    assert [c.variant for c in results[0].comparisons] == ["a", "b"]
    assert "a is very likely better than holdout" in results[0].comparisons[0].verdict
    assert results[0].srm_warning is None


def test_a_sample_ratio_mismatch_is_called_out():
    (result,) = group_results([row("a", control=True, srm=1e-6), row("b", chance=0.99, srm=1e-6)])
    assert result.srm_warning and "cannot be trusted" in result.srm_warning
