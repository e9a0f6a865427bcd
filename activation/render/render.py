"""Render messages for recipients: one at a time, or a batch that survives bad recipients.

`render_message` is the one entry point for every channel: it checks the recipient's address
for the channel, then renders the compiled template with the recipient's segment row.
`render_batch` renders many: a recipient whose row breaks the template (a missing column, a
value a filter cannot take, an unusable address) becomes a `RenderFailure` with a reason a
marketer can read, and the batch goes on. A template that does not compile is not a
recipient's failure: `render_batch` raises it before rendering anyone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from activation.render.addresses import check_address
from activation.render.context import RenderContext
from activation.render.email import render_email
from activation.render.limits import DEFAULT_LIMITS, RenderLimits
from activation.render.sms import render_sms
from activation.render.template import (
    CompiledEmail,
    CompiledSms,
    CompiledTemplate,
    CompiledWebhook,
    MessageTemplate,
    TemplateCache,
    compile_template,
)
from activation.render.webhook import render_webhook
from connectors.destinations.message import OutboundMessage


@dataclass(frozen=True)
class Recipient:
    """One planned message: its id, the profile, the channel address and the segment row."""

    message_id: str
    profile_id: str
    channel_address: str
    row: Mapping[str, Any]


@dataclass(frozen=True)
class RenderFailure:
    """A recipient whose message could not be rendered, and why (safe to show)."""

    message_id: str
    profile_id: str
    reason: str
    error: str  # the error class, e.g. "TemplateRenderError", for grouping failures


@dataclass(frozen=True)
class RenderedBatch:
    messages: list[OutboundMessage] = field(default_factory=list)
    failures: list[RenderFailure] = field(default_factory=list)


def render_message(
    template: CompiledTemplate,
    *,
    message_id: str,
    profile_id: str,
    channel_address: str,
    row: Mapping[str, Any],
    context: RenderContext,
) -> OutboundMessage:
    """The message `template` makes for one recipient; a ValueError subclass says why not."""
    to = check_address(template.channel, channel_address)
    if not message_id or not profile_id:
        raise ValueError("a message needs a message id and a profile id")
    if isinstance(template, CompiledEmail):
        return render_email(
            template, message_id=message_id, profile_id=profile_id, to=to, row=row, context=context
        )
    if isinstance(template, CompiledSms):
        return render_sms(
            template, message_id=message_id, profile_id=profile_id, to=to, row=row, context=context
        )
    if isinstance(template, CompiledWebhook):
        return render_webhook(
            template, message_id=message_id, profile_id=profile_id, to=to, row=row, context=context
        )
    raise TypeError(f"not a compiled template: {type(template).__name__}")


def render_batch(
    template: CompiledTemplate | MessageTemplate,
    recipients: Iterable[Recipient],
    *,
    context: RenderContext,
    limits: RenderLimits = DEFAULT_LIMITS,
    cache: TemplateCache | None = None,
) -> RenderedBatch:
    """Every recipient's message, or its failure; the template is compiled (or reused) once."""
    compiled = (
        template
        if isinstance(template, CompiledEmail | CompiledSms | CompiledWebhook)
        else compile_template(template, limits=limits, cache=cache)
    )
    batch = RenderedBatch()
    for recipient in recipients:
        try:
            message = render_message(
                compiled,
                message_id=recipient.message_id,
                profile_id=recipient.profile_id,
                channel_address=recipient.channel_address,
                row=recipient.row,
                context=context,
            )
        except ValueError as error:  # every rendering error is one (TemplateError, addresses)
            batch.failures.append(
                RenderFailure(
                    recipient.message_id, recipient.profile_id, str(error), type(error).__name__
                )
            )
        else:
            batch.messages.append(message)
    return batch
