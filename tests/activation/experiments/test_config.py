"""Experiment configuration: what a valid one looks like, and errors that name the problem."""

import pytest
from pydantic import ValidationError

from activation.definition import ActivationDefinition
from activation.experiments.assignment import arms
from activation.experiments.config import ExperimentConfig


def experiment(**overrides):
    values = {"id": "subject_test", "variants": [{"name": "a"}, {"name": "b"}]}
    values.update(overrides)
    return ExperimentConfig.model_validate(values)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"variants": [{"name": "a", "weight": 0}, {"name": "b"}]}, "greater than 0"),
        ({"variants": [{"name": "a", "weight": -1}, {"name": "b"}]}, "greater than 0"),
        ({"variants": [{"name": "a"}, {"name": "a"}]}, "duplicate variant names: a"),
        ({"variants": [{"name": "holdout"}, {"name": "b"}]}, "reserved for the holdout"),
        ({"primary_metric": "opens"}, "primary_metric"),
        ({"guardrail_metrics": ["click", "bounces"]}, "guardrail_metrics"),
        ({"guardrail_metrics": ["conversion"]}, "cannot also be a guardrail"),
        ({"control": "holdout"}, "needs a holdout_percent above 0"),
        ({"variants": [{"name": "a"}]}, "two or more variants, or a holdout"),
        ({"holdout_percent": 100}, "holdout_percent"),
        ({"id": "Bad Id"}, "experiment id 'Bad Id'"),
    ],
)
def test_bad_config_is_refused_with_the_reason(overrides, message):
    with pytest.raises(ValidationError, match=message):
        experiment(**overrides)


def test_a_variant_may_only_change_what_the_channel_has():
    with pytest.raises(ValidationError, match="sets subject, which a sms message does not have"):
        ActivationDefinition.model_validate(
            {
                "name": "texts",
                "segment": "test",
                "destination": "sink",
                "channel": "sms",
                "message": {"body": "Hi"},
                "experiment": {
                    "id": "e1",
                    "variants": [{"name": "a"}, {"name": "b", "subject": "Nope"}],
                },
            }
        )


def test_arms_split_the_buckets_by_weight_after_the_holdout():
    split = arms(
        experiment(
            variants=[{"name": "a", "weight": 1}, {"name": "b", "weight": 3}], holdout_percent=20
        )
    )
    assert [(a.name, a.low, a.high) for a in split] == [
        ("holdout", 0, 2000),
        ("a", 2000, 4000),
        ("b", 4000, 10000),
    ]
    assert [a.traffic_share for a in split] == [0.2, 0.2, 0.6]
    assert sum(a.weight for a in split) == pytest.approx(1)


def test_a_holdout_can_be_the_control():
    config = experiment(holdout_percent=10, control="holdout")
    assert config.control_arm == "holdout"
    assert experiment().control_arm == "a"
