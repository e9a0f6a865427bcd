"""One recipient's email: subject, HTML, text alternative and the headers providers expect.

Every email carries one-click unsubscribe (RFC 8058): `List-Unsubscribe` with an HTTPS URL
naming a signed token (and optionally a mailto: fallback), plus
`List-Unsubscribe-Post: List-Unsubscribe=One-Click`, which tells the mailbox provider it may
POST to that URL without showing a page. Gmail and Yahoo require both for bulk senders; the
provider's DKIM signature must cover them (SES and SendGrid sign all headers they are given).
Our message id is not a header here: each destination puts `OutboundMessage.message_id` where
its provider carries it back (the `X-Tidemark-Message-Id` header, a tag, a custom argument).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activation.render.context import RenderContext, recipient_time_zone, template_variables
from activation.render.errors import TemplateRenderError
from activation.render.limits import RenderScope
from activation.render.template import CompiledEmail
from activation.render.text_alternative import text_from_html
from activation.render.unsubscribe import make_unsubscribe_token
from connectors.destinations.message import Channel, OutboundMessage

LIST_UNSUBSCRIBE_POST = "List-Unsubscribe=One-Click"


def unsubscribe_headers(url: str, token: str, mailto: str | None) -> dict[str, str]:
    """The RFC 2369 / RFC 8058 headers: the HTTPS URL first, then the optional mailto:."""
    targets = f"<{url}>"
    if mailto is not None:
        targets += f", <mailto:{mailto}?subject=unsubscribe%20{token}>"
    return {"List-Unsubscribe": targets, "List-Unsubscribe-Post": LIST_UNSUBSCRIBE_POST}


def render_email(
    template: CompiledEmail,
    *,
    message_id: str,
    profile_id: str,
    to: str,
    row: Mapping[str, Any],
    context: RenderContext,
) -> OutboundMessage:
    """The email `template` makes for one recipient (`to` already checked)."""
    token = make_unsubscribe_token(
        context.unsubscribe_secret, message_id, profile_id, Channel.EMAIL
    )
    url = context.unsubscribe_url(token)
    variables = template_variables(
        row, context, message_id=message_id, profile_id=profile_id, unsubscribe_url=url
    )
    with RenderScope(template.limits, recipient_time_zone(row, context)):
        subject = " ".join(template.subject.render(variables).split())  # one header line
        html = template.html.render(variables)
        if template.text is None:
            text = text_from_html(html)
        else:
            text = template.text.render(variables).strip()
    if not subject:
        raise TemplateRenderError("the subject is empty for this recipient", part="subject")
    # Our message id travels in `OutboundMessage.message_id`; each destination puts it where
    # its provider carries it back (the X-Tidemark-Message-Id header, a tag, a custom arg).
    headers = unsubscribe_headers(url, token, context.unsubscribe_mailto)
    return OutboundMessage(
        message_id=message_id,
        channel=Channel.EMAIL,
        to=to,
        profile_id=profile_id,
        subject=subject,
        html=html,
        text=text,
        from_address=template.from_address,
        from_name=template.from_name,
        reply_to=template.reply_to,
        headers=headers,
    )
