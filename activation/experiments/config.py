"""What an experiment on an activation is: arms, traffic split, holdout, metrics, control.

An experiment rides on one activation. Its variants change what a recipient gets (the subject
line, the template, or when it is sent); a holdout share receives nothing at all, so the
campaign's own lift can be measured. The config is validated here, once, whether it came from
a dbt exposure's `meta.tidemark.activation.experiment` or from the engine's Python API, and
every error names the field and the problem.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EXPERIMENT_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
VARIANT_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
HOLDOUT_ARM = "holdout"


class Metric(StrEnum):
    """The metrics an experiment can be judged on (see experiment_results.yml)."""

    CLICK = "click"
    CONVERSION = "conversion"
    REVENUE = "revenue"
    UNSUBSCRIBE = "unsubscribe"
    COMPLAINT = "complaint"

    @property
    def metric_type(self) -> str:
        """'binomial' (yes/no per recipient, variance p(1-p)) or 'mean' (a value per recipient)."""
        return "mean" if self is Metric.REVENUE else "binomial"

    @property
    def higher_is_better(self) -> bool:
        return self not in (Metric.UNSUBSCRIBE, Metric.COMPLAINT)


class Control(StrEnum):
    """What the other arms are compared with.

    first_variant: an A/B test; the first variant is the baseline.
    holdout: the campaign's own lift; the holdout (who got nothing) is the baseline.
    """

    FIRST_VARIANT = "first_variant"
    HOLDOUT = "holdout"


class Variant(BaseModel):
    """One arm that receives the message, with what it changes and its share of traffic.

    Fields left unset keep the activation's own message. `send_delay_hours` moves this arm's
    send time later than the plan's (after quiet hours are applied).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    weight: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    subject: str | None = Field(default=None, min_length=1, max_length=998)
    html: str | None = None
    mjml: str | None = None
    text: str | None = None
    body: str | None = Field(default=None, min_length=1, max_length=1600)
    send_delay_hours: int = Field(default=0, ge=0, le=24 * 14)

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not VARIANT_NAME_PATTERN.match(value):
            raise ValueError(
                f"variant name {value!r} must be lowercase letters, digits and underscores, "
                "starting with a letter (at most 40 characters)"
            )
        if value == HOLDOUT_ARM:
            raise ValueError(f"variant name {HOLDOUT_ARM!r} is reserved for the holdout")
        return value

    @model_validator(mode="after")
    def _one_template(self) -> Variant:
        if self.html is not None and self.mjml is not None:
            raise ValueError(f"variant {self.name!r} sets both 'html' and 'mjml'; choose one")
        return self


class ExperimentMode(StrEnum):
    """ab: fixed traffic split for the whole audience; bandit: sent in waves, each wave's
    split following the arms' results so far (Thompson sampling)."""

    AB = "ab"
    BANDIT = "bandit"


class BanditConfig(BaseModel):
    """How a bandit experiment sends: one wave of at most `wave_size` new members per run.

    Before each wave the allocation is drawn afresh from the arms' Beta posteriors on the
    primary metric (Thompson sampling, `draws` samples, seeded by `seed` and the wave
    number), and every arm keeps at least `floor` of the wave so none starves. After `waves`
    waves the remaining members are sent in one go on the last allocation drawn afresh.
    The activation's schedule spaces the waves: each run is one wave.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    wave_size: int = Field(ge=1, le=10_000_000)
    waves: int = Field(default=5, ge=1, le=1_000)
    floor: float = Field(default=0.05, gt=0, lt=1, allow_inf_nan=False)
    seed: int = Field(default=0, ge=0, lt=2**63)
    draws: int = Field(default=20_000, ge=100, le=1_000_000)


class ExperimentConfig(BaseModel):
    """An experiment attached to an activation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    salt: str | None = Field(
        default=None,
        min_length=1,
        description="Seeds the assignment hash; defaults to the experiment id. Changing it "
        "reshuffles everyone not yet assigned.",
    )
    variants: list[Variant] = Field(
        min_length=1,
        max_length=20,
        description="At most 20 arms: the SRM test's chi-square macro is written out to 40 df.",
    )
    holdout_percent: float = Field(default=0.0, ge=0, lt=100, allow_inf_nan=False)
    control: Control = Control.FIRST_VARIANT
    primary_metric: Metric = Metric.CONVERSION
    guardrail_metrics: list[Metric] = Field(default_factory=list)
    conversion_window_days: int = Field(default=7, ge=1, le=90)
    mode: ExperimentMode = ExperimentMode.AB
    bandit: BanditConfig | None = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not EXPERIMENT_ID_PATTERN.match(value):
            raise ValueError(
                f"experiment id {value!r} must be lowercase letters, digits and underscores, "
                "starting with a letter (2-63 characters)"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentConfig:
        names = [v.name for v in self.variants]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"duplicate variant names: {', '.join(repeated)}")
        if self.control is Control.HOLDOUT and self.holdout_percent == 0:
            raise ValueError("control 'holdout' needs a holdout_percent above 0")
        if len(self.variants) < 2 and self.holdout_percent == 0:
            raise ValueError(
                "an experiment needs two or more variants, or a holdout to compare with"
            )
        if self.primary_metric in self.guardrail_metrics:
            raise ValueError(
                f"metric {self.primary_metric.value!r} is the primary metric; "
                "it cannot also be a guardrail"
            )
        if len(set(self.guardrail_metrics)) != len(self.guardrail_metrics):
            raise ValueError("guardrail_metrics lists a metric twice")
        if self.mode is ExperimentMode.BANDIT:
            self._check_bandit()
        elif self.bandit is not None:
            raise ValueError("'bandit' settings need mode 'bandit'")
        return self

    def _check_bandit(self) -> None:
        if self.bandit is None:
            raise ValueError("mode 'bandit' needs 'bandit' settings (at least wave_size)")
        metric = self.primary_metric
        if metric.metric_type != "binomial" or not metric.higher_is_better:
            raise ValueError(
                f"mode 'bandit' needs a yes/no primary metric where more is better "
                f"(click or conversion), not {metric.value!r}"
            )
        if self.holdout_percent > 0:
            raise ValueError("mode 'bandit' allocates every member to a variant: no holdout")
        if len(self.variants) < 2:
            raise ValueError("mode 'bandit' needs two or more variants")
        if self.bandit.floor * len(self.variants) > 1:
            raise ValueError(
                f"bandit floor {self.bandit.floor} for each of {len(self.variants)} variants "
                "adds up to more than the whole wave"
            )

    @property
    def assignment_salt(self) -> str:
        return self.salt if self.salt is not None else self.id

    @property
    def control_arm(self) -> str:
        return HOLDOUT_ARM if self.control is Control.HOLDOUT else self.variants[0].name

    @property
    def metrics(self) -> list[Metric]:
        return [self.primary_metric, *self.guardrail_metrics]
