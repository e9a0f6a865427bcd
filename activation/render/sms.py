"""One recipient's SMS: the body template rendered as plain text (no HTML escaping)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activation.render.context import RenderContext, recipient_time_zone, template_variables
from activation.render.errors import TemplateRenderError
from activation.render.limits import RenderScope
from activation.render.template import CompiledSms
from activation.render.unsubscribe import make_unsubscribe_token
from connectors.destinations.message import Channel, OutboundMessage


def render_sms(
    template: CompiledSms,
    *,
    message_id: str,
    profile_id: str,
    to: str,
    row: Mapping[str, Any],
    context: RenderContext,
) -> OutboundMessage:
    """The SMS `template` makes for one recipient (`to` already checked)."""
    url = ""
    if "unsubscribe_url" in template.body.variables:  # signing costs time: only when used
        token = make_unsubscribe_token(
            context.unsubscribe_secret, message_id, profile_id, Channel.SMS
        )
        url = context.unsubscribe_url(token)
    variables = template_variables(
        row, context, message_id=message_id, profile_id=profile_id, unsubscribe_url=url
    )
    with RenderScope(template.limits, recipient_time_zone(row, context)):
        body = template.body.render(variables).strip()
    if not body:
        raise TemplateRenderError("the SMS body is empty for this recipient", part="body")
    return OutboundMessage(
        message_id=message_id, channel=Channel.SMS, to=to, profile_id=profile_id, text=body
    )
