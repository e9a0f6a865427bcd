"""What an activation is: a segment, a destination, a message, a mode, a schedule and limits.

Activations are declared as code in the dbt project (an exposure whose
`meta.tidemark.activation` holds this definition, so dbt docs show segment → activation
lineage) or created at run time through the engine's Python API; both end up as this model,
validated the same way, with errors that name the field.
"""

from __future__ import annotations

import re
from datetime import time
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from activation.experiments.config import ExperimentConfig
from connectors.destinations.message import Channel

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,62}$")


class Mode(StrEnum):
    """How membership changes become messages.

    add_only: members who joined since the last delivered snapshot get the message.
    upsert: joined or changed members get it.
    mirror: joined and changed members get it, and removals are recorded (audience-style
    destinations act on them; message channels cannot unsend, so they only update the snapshot).
    """

    ADD_ONLY = "add_only"
    UPSERT = "upsert"
    MIRROR = "mirror"


class EmailContent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(min_length=1, max_length=998)
    from_address: str
    from_name: str | None = None
    reply_to: str | None = None
    html: str | None = None
    mjml: str | None = None
    text: str | None = None

    @model_validator(mode="after")
    def _one_body(self) -> EmailContent:
        if (self.html is None) == (self.mjml is None):
            raise ValueError("an email message needs exactly one of 'html' or 'mjml'")
        return self


class SmsContent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    body: str = Field(min_length=1, max_length=1600)


class WebhookContent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(pattern=r"^https?://", description="Where each member's payload is POSTed.")
    payload: dict[str, Any]


class SendTime(StrEnum):
    """When each planned message goes out.

    immediate: as soon as planned (quiet hours still defer it).
    recommended: at the next occurrence of the recipient's recommended local hour
    (`analytics.send_time_recommendations`), then quiet hours, so a recommendation that falls
    in them waits for their end.
    """

    IMMEDIATE = "immediate"
    RECOMMENDED = "recommended"


class QuietHours(BaseModel):
    """No message arrives between `start` and `end`, in the recipient's own time zone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time = time(21, 0)
    end: time = time(8, 0)


class FrequencyCap(BaseModel):
    """At most `max_messages` per recipient per channel over a rolling window, all activations."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_messages: int = Field(default=3, ge=1)
    window_hours: int = Field(default=168, ge=1)


class Limits(BaseModel):
    """A plan that changes more than this pauses for approval instead of sending."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_change: int | None = Field(default=None, ge=0)
    max_change_ratio: float | None = Field(default=None, ge=0)


class ActivationDefinition(BaseModel):
    """One activation, whatever declared it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    segment: str
    destination: str
    channel: Channel
    message: EmailContent | SmsContent | WebhookContent
    mode: Mode = Mode.ADD_ONLY
    schedule: Literal["once"] | str = "once"
    limits: Limits = Limits()
    frequency_cap: FrequencyCap | None = FrequencyCap()
    quiet_hours: QuietHours | None = QuietHours()
    send_time: SendTime = SendTime.IMMEDIATE
    description: str = ""
    owner: str | None = None
    declared_in: Literal["dbt", "api"] = "api"
    experiment: ExperimentConfig | None = None

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(
                f"activation name {value!r} must be lowercase letters, digits and underscores, "
                "starting with a letter (2-63 characters)"
            )
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule_shape(cls, value: str) -> str:
        if value != "once" and len(value.split()) != 5:
            raise ValueError(f"schedule {value!r} must be 'once' or a 5-field cron expression")
        return value

    @model_validator(mode="after")
    def _message_matches_channel(self) -> ActivationDefinition:
        expected = {
            Channel.EMAIL: EmailContent,
            Channel.SMS: SmsContent,
            Channel.WEBHOOK: WebhookContent,
        }[self.channel]
        if not isinstance(self.message, expected):
            raise ValueError(
                f"channel {self.channel.value!r} needs a {expected.__name__} message, "
                f"got {type(self.message).__name__}"
            )
        return self

    @model_validator(mode="after")
    def _send_time_fits_channel(self) -> ActivationDefinition:
        """A recommended hour is a person's reading habit; a webhook has no reader."""
        if self.send_time is SendTime.RECOMMENDED and self.channel is Channel.WEBHOOK:
            raise ValueError(
                "send_time 'recommended' applies to email and sms; a webhook is sent "
                "immediately (use send_time 'immediate')"
            )
        return self

    @model_validator(mode="after")
    def _experiment_fits_channel(self) -> ActivationDefinition:
        """A variant may only change what this channel's message has."""
        if self.experiment is None:
            return self
        allowed = {
            Channel.EMAIL: {"subject", "html", "mjml", "text"},
            Channel.SMS: {"body"},
            Channel.WEBHOOK: set(),
        }[self.channel]
        for variant in self.experiment.variants:
            changed = {
                field
                for field in ("subject", "html", "mjml", "text", "body")
                if getattr(variant, field) is not None
            }
            if changed - allowed:
                raise ValueError(
                    f"experiment variant {variant.name!r} sets "
                    f"{', '.join(sorted(changed - allowed))}, which a {self.channel.value} "
                    f"message does not have"
                )
        return self


class ActivationDefinitionError(ValueError):
    """An activation declaration that cannot be used; the message names where and why."""


def from_dbt_exposures(manifest: dict[str, Any]) -> list[ActivationDefinition]:
    """Activations declared as dbt exposures with `meta.tidemark.activation`.

    The exposure must depend on exactly one segment model, which becomes the activation's
    segment, so lineage in dbt docs and the engine agree.
    """
    found = []
    for exposure in manifest.get("exposures", {}).values():
        meta = exposure.get("config", {}).get("meta") or exposure.get("meta") or {}
        declared = meta.get("tidemark", {}).get("activation")
        if declared is None:
            continue
        segments = [
            node.split(".")[-1].removeprefix("segment_")
            for node in exposure.get("depends_on", {}).get("nodes", [])
            if node.split(".")[-1].startswith("segment_")
        ]
        if len(segments) != 1:
            raise ActivationDefinitionError(
                f"exposure {exposure['name']!r} must depend on exactly one segment model "
                f"(found {len(segments)})"
            )
        try:
            found.append(
                ActivationDefinition.model_validate(
                    {
                        "name": exposure["name"],
                        "segment": segments[0],
                        "description": exposure.get("description", ""),
                        "owner": (exposure.get("owner") or {}).get("email"),
                        **declared,
                        "declared_in": "dbt",
                    }
                )
            )
        except ValueError as error:
            raise ActivationDefinitionError(
                f"exposure {exposure['name']!r}: invalid meta.tidemark.activation: {error}"
            ) from error
    return sorted(found, key=lambda a: a.name)
