"""The engine's renderer for one activation: its template compiled once, applied per batch."""

from __future__ import annotations

import json

from activation.definition import (
    ActivationDefinition,
    EmailContent,
    SmsContent,
    WebhookContent,
)
from activation.deliver import Renderer
from activation.experiments.content import variant_messages
from activation.render import (
    EmailTemplate,
    MessageTemplate,
    Recipient,
    RenderContext,
    SmsTemplate,
    WebhookTemplate,
    compile_template,
    render_batch,
)
from connectors.destinations.message import OutboundMessage
from connectors.ops_store.outbox import ClaimedMessage
from connectors.settings import Settings


def message_template(
    definition: ActivationDefinition,
    message: EmailContent | SmsContent | WebhookContent | None = None,
) -> MessageTemplate:
    """The template of `message` (an experiment variant's), else the activation's own."""
    message = message or definition.message
    if isinstance(message, EmailContent):
        return EmailTemplate(
            name=definition.name,
            subject=message.subject,
            html=message.html,
            mjml=message.mjml,
            text=message.text,
            from_address=message.from_address,
            from_name=message.from_name,
            reply_to=message.reply_to,
        )
    if isinstance(message, SmsContent):
        return SmsTemplate(name=definition.name, body=message.body)
    assert isinstance(message, WebhookContent)
    return WebhookTemplate(name=definition.name, payload=message.payload)


def render_context(settings: Settings, definition: ActivationDefinition) -> RenderContext:
    return RenderContext(
        unsubscribe_base_url=settings.public_base_url,
        unsubscribe_secret=settings.unsubscribe_key(),
        variables={"activation": definition.name},
    )


def renderer_for(settings: Settings, definition: ActivationDefinition) -> Renderer:
    """Compile the activation's template now (a broken template fails the run up front)."""
    compiled = {
        variant: compile_template(message_template(definition, message))
        for variant, message in variant_messages(definition).items()
    }
    context = render_context(settings, definition)
    message = definition.message
    webhook_url = message.url if isinstance(message, WebhookContent) else None

    def render(messages: list[ClaimedMessage]) -> tuple[list[OutboundMessage], dict[str, str]]:
        recipients = [
            Recipient(
                message_id=m.message_id,
                profile_id=m.profile_id,
                channel_address=webhook_url or m.address,
                row=json.loads(m.attributes),
            )
            for m in messages
        ]
        rendered: list[OutboundMessage] = []
        failures: dict[str, str] = {}
        for variant, template in compiled.items():
            batch = render_batch(
                template,
                [r for r, m in zip(recipients, messages, strict=True) if m.variant == variant],
                context=context,
            )
            rendered.extend(batch.messages)
            failures.update({f.message_id: f.reason for f in batch.failures})
        unknown = {m.message_id for m in messages if m.variant not in compiled}
        failures.update(
            dict.fromkeys(unknown, "the message's experiment variant is no longer defined")
        )
        return rendered, failures

    return render
