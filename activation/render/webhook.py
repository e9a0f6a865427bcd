"""One recipient's webhook call: the payload template rendered to JSON values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activation.render.context import RenderContext, recipient_time_zone, template_variables
from activation.render.limits import RenderScope
from activation.render.payload import render_payload
from activation.render.template import CompiledWebhook
from activation.render.unsubscribe import make_unsubscribe_token
from connectors.destinations.message import Channel, OutboundMessage


def render_webhook(
    template: CompiledWebhook,
    *,
    message_id: str,
    profile_id: str,
    to: str,
    row: Mapping[str, Any],
    context: RenderContext,
) -> OutboundMessage:
    """The webhook message `template` makes for one recipient (`to` already checked)."""
    url = ""
    if "unsubscribe_url" in template.reads:  # signing costs time: only when used
        token = make_unsubscribe_token(
            context.unsubscribe_secret, message_id, profile_id, Channel.WEBHOOK
        )
        url = context.unsubscribe_url(token)
    variables = template_variables(
        row, context, message_id=message_id, profile_id=profile_id, unsubscribe_url=url
    )
    with RenderScope(template.limits, recipient_time_zone(row, context)):
        payload = render_payload(template.payload, variables)
    assert isinstance(payload, dict)  # compile_payload only accepts objects
    return OutboundMessage(
        message_id=message_id,
        channel=Channel.WEBHOOK,
        to=to,
        profile_id=profile_id,
        payload=payload,
    )
