"""Each arm's message: the activation's own, with what the variant changes laid over it."""

from __future__ import annotations

from typing import Any

from activation.definition import (
    ActivationDefinition,
    EmailContent,
    SmsContent,
    WebhookContent,
)

DEFAULT_VARIANT = "default"


def variant_messages(
    definition: ActivationDefinition,
) -> dict[str, EmailContent | SmsContent | WebhookContent]:
    """Message per variant name; `default` (no experiment) is the activation's message."""
    messages: dict[str, EmailContent | SmsContent | WebhookContent] = {
        DEFAULT_VARIANT: definition.message
    }
    experiment = definition.experiment
    if experiment is None:
        return messages
    for variant in experiment.variants:
        changes: dict[str, Any] = {}
        if isinstance(definition.message, EmailContent):
            if variant.subject is not None:
                changes["subject"] = variant.subject
            if variant.html is not None or variant.mjml is not None:
                changes.update(html=variant.html, mjml=variant.mjml)
            if variant.text is not None:
                changes["text"] = variant.text
        elif isinstance(definition.message, SmsContent) and variant.body is not None:
            changes["body"] = variant.body
        messages[variant.name] = definition.message.model_copy(update=changes)
    return messages
