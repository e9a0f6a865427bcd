"""The activation form's fields, turned into an `ActivationDefinition` (or field errors).

The form is flat HTML; the definition is nested (message, limits, experiment). This module
is the one place that maps one onto the other, so the preview and the save agree on what
the marketer typed, and validation errors come back named by form field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from activation.definition import ActivationDefinition

CONTENT_MODELS = {"email": "EmailContent", "sms": "SmsContent", "webhook": "WebhookContent"}
"""How pydantic names each channel's message model in error locations."""

CONTROL_ARM = "a"
CHALLENGER_ARM = "b"


def _text(form: Mapping[str, Any], field: str) -> str:
    value = form.get(field)
    return value.strip() if isinstance(value, str) else ""


def _number(form: Mapping[str, Any], field: str, errors: dict[str, str]) -> float | None:
    text = _text(form, field)
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        errors[field] = f"{text!r} is not a number"
        return None


def _message(form: Mapping[str, Any], channel: str) -> dict[str, Any]:
    if channel == "sms":
        return {"body": _text(form, "sms_body")}
    body_format = "mjml" if _text(form, "body_format") == "mjml" else "html"
    message: dict[str, Any] = {
        "subject": _text(form, "subject"),
        "from_address": _text(form, "from_address"),
        body_format: form.get("body") or "",
    }
    if _text(form, "from_name"):
        message["from_name"] = _text(form, "from_name")
    return message


def _experiment(form: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any] | None:
    experiment_id = _text(form, "experiment_id")
    if not experiment_id:
        return None
    holdout = _number(form, "holdout_percent", errors) or 0.0
    variants: list[dict[str, Any]] = [{"name": CONTROL_ARM}]
    if _text(form, "variant_b_subject"):
        variants.append({"name": CHALLENGER_ARM, "subject": _text(form, "variant_b_subject")})
    experiment: dict[str, Any] = {
        "id": experiment_id,
        "variants": variants,
        "holdout_percent": holdout,
    }
    if len(variants) == 1 and holdout > 0:
        experiment["control"] = "holdout"  # one variant: measure the campaign's own lift
    return experiment


def definition_document(form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The definition the form describes, as a document, and errors found while reading it."""
    errors: dict[str, str] = {}
    channel = _text(form, "channel") or "email"
    document: dict[str, Any] = {
        "name": _text(form, "name"),
        "segment": _text(form, "segment"),
        "destination": _text(form, "destination"),
        "channel": channel,
        "message": _message(form, channel),
        "schedule": _text(form, "schedule") or "once",
    }
    max_change = _number(form, "max_change", errors)
    if max_change is not None:
        document["limits"] = {"max_change": int(max_change)}
    if form.get("quiet_hours") is None:
        document["quiet_hours"] = None
    if form.get("send_time_recommended") is not None:
        document["send_time"] = "recommended"
    experiment = _experiment(form, errors)
    if experiment is not None:
        document["experiment"] = experiment
    return document, errors


def _field_name(location: tuple[int | str, ...]) -> str:
    """The form field a validation error belongs to."""
    parts = [str(part) for part in location]
    if parts[:1] == ["message"] and len(parts) > 2:
        last = parts[-1]
        return {"body": "sms_body", "html": "body", "mjml": "body"}.get(last, last)
    if parts[:1] == ["limits"]:
        return "max_change"
    if parts[:1] == ["experiment"]:
        return "experiment_id"
    return parts[0] if parts else "form"


def _is_model(union_member: int | str, model: str | None) -> bool:
    """Whether an error location's union member is `model` (pydantic may wrap its name,
    e.g. `function-after[_one_body(), EmailContent]`)."""
    return model is not None and re.search(rf"\b{model}\b", str(union_member)) is not None


def read_definition(
    form: Mapping[str, Any],
) -> tuple[ActivationDefinition | None, dict[str, str]]:
    """The validated definition, or None and a message per offending form field."""
    document, errors = definition_document(form)
    try:
        definition = ActivationDefinition.model_validate(document)
    except ValidationError as error:
        expected = CONTENT_MODELS.get(str(document["channel"]))
        for problem in error.errors():
            location = tuple(problem["loc"])
            if (
                location[:1] == ("message",)
                and len(location) > 1
                and not _is_model(location[1], expected)
            ):
                continue  # the union's other message kinds: not what this channel uses
            field = _field_name(location)
            message = str(problem["msg"]).removeprefix("Value error, ")
            errors.setdefault(field, message)
        return None, errors
    return (None, errors) if errors else (definition, errors)
