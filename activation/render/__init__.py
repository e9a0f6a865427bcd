"""Message rendering: sandboxed Jinja2 templates (MJML compiled once) to `OutboundMessage`s.

Compile a template once per run (`compile_template`, cached by content), then render it per
recipient (`render_message`) or per batch (`render_batch`, which records failures instead of
stopping). Unsubscribe tokens (`make_unsubscribe_token`, `verify_unsubscribe_token`) are
shared with the API's one-click unsubscribe endpoint.
"""

from activation.render.context import RenderContext
from activation.render.errors import (
    RecipientAddressError,
    TemplateCompileError,
    TemplateError,
    TemplateLimitError,
    TemplateRenderError,
    TemplateSecurityError,
)
from activation.render.limits import DEFAULT_LIMITS, RenderLimits
from activation.render.render import (
    Recipient,
    RenderedBatch,
    RenderFailure,
    render_batch,
    render_message,
)
from activation.render.template import (
    CompiledEmail,
    CompiledSms,
    CompiledTemplate,
    CompiledWebhook,
    EmailTemplate,
    MessageTemplate,
    SmsTemplate,
    TemplateCache,
    WebhookTemplate,
    compile_template,
)
from activation.render.unsubscribe import (
    InvalidUnsubscribeTokenError,
    UnsubscribeClaim,
    make_unsubscribe_token,
    verify_unsubscribe_token,
)

__all__ = [
    "DEFAULT_LIMITS",
    "CompiledEmail",
    "CompiledSms",
    "CompiledTemplate",
    "CompiledWebhook",
    "EmailTemplate",
    "InvalidUnsubscribeTokenError",
    "MessageTemplate",
    "Recipient",
    "RecipientAddressError",
    "RenderContext",
    "RenderFailure",
    "RenderLimits",
    "RenderedBatch",
    "SmsTemplate",
    "TemplateCache",
    "TemplateCompileError",
    "TemplateError",
    "TemplateLimitError",
    "TemplateRenderError",
    "TemplateSecurityError",
    "UnsubscribeClaim",
    "WebhookTemplate",
    "compile_template",
    "make_unsubscribe_token",
    "render_batch",
    "render_message",
    "verify_unsubscribe_token",
]
