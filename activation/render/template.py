"""Message templates per channel, compiled once and cached by content.

A template is what a marketer wrote for a channel:

- email: a subject template, a body in MJML or HTML, optionally a text template (else the
  text alternative is derived from the HTML), and static sender fields;
- sms: a body template;
- webhook: a payload mapping whose string leaves are templates (see `payload`).

`compile_template` validates all of it (syntax, sandbox rules, sizes, sender addresses, the
unsubscribe link a marketing email must carry) and compiles it once: MJML to HTML, the HTML to
a Jinja template, the text alternative. Compiled templates are cached by a hash of their
content and limits, so every run, worker and preview of the same template reuses one
compilation; a changed template is a different hash, never a stale cache entry.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from email_validator import EmailNotValidError, validate_email

from activation.render.context import PROVIDED_VARIABLES
from activation.render.errors import TemplateCompileError, TemplateLimitError
from activation.render.limits import DEFAULT_LIMITS, RenderLimits
from activation.render.mjml import mjml_to_html_template
from activation.render.payload import PayloadNode, compile_payload, payload_variables
from activation.render.sandbox import CompiledPart, compile_part
from activation.render.text_alternative import derive_text_template
from connectors.destinations.message import Channel

COMPILER_VERSION = "1"  # bump when compiled output changes for the same source


@dataclass(frozen=True)
class EmailTemplate:
    """An email: subject and body templates (exactly one of `html` and `mjml`)."""

    channel: ClassVar[Channel] = Channel.EMAIL
    name: str
    subject: str
    html: str | None = None
    mjml: str | None = None
    text: str | None = None
    from_address: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    require_unsubscribe_link: bool = True  # marketing email must show one (CAN-SPAM, Gmail)


@dataclass(frozen=True)
class SmsTemplate:
    channel: ClassVar[Channel] = Channel.SMS
    name: str
    body: str


@dataclass(frozen=True)
class WebhookTemplate:
    channel: ClassVar[Channel] = Channel.WEBHOOK
    name: str
    payload: Mapping[str, Any]


MessageTemplate = EmailTemplate | SmsTemplate | WebhookTemplate


@dataclass(frozen=True, eq=False)
class CompiledEmail:
    channel: ClassVar[Channel] = Channel.EMAIL
    name: str
    content_hash: str
    limits: RenderLimits
    subject: CompiledPart
    html: CompiledPart
    text: CompiledPart | None  # None: derive each message's text from its rendered HTML
    text_is_derived: bool
    from_address: str | None
    from_name: str | None
    reply_to: str | None

    @property
    def variables(self) -> frozenset[str]:
        """Row columns (or shared variables) the template reads."""
        parts = [self.subject, self.html] + ([self.text] if self.text else [])
        return frozenset().union(*(p.variables for p in parts)) - PROVIDED_VARIABLES


@dataclass(frozen=True, eq=False)
class CompiledSms:
    channel: ClassVar[Channel] = Channel.SMS
    name: str
    content_hash: str
    limits: RenderLimits
    body: CompiledPart

    @property
    def variables(self) -> frozenset[str]:
        return self.body.variables - PROVIDED_VARIABLES


@dataclass(frozen=True, eq=False)
class CompiledWebhook:
    channel: ClassVar[Channel] = Channel.WEBHOOK
    name: str
    content_hash: str
    limits: RenderLimits
    payload: dict[str, PayloadNode]
    reads: frozenset[str]  # every variable the payload reads, Tidemark's included

    @property
    def variables(self) -> frozenset[str]:
        return self.reads - PROVIDED_VARIABLES


CompiledTemplate = CompiledEmail | CompiledSms | CompiledWebhook


class TemplateCache:
    """Compiled templates by content hash (least recently used dropped beyond `maxsize`).

    Counts hits, misses and MJML compilations: the numbers to look at when a run is slower
    than it should be.
    """

    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self.mjml_compilations = 0
        self._entries: OrderedDict[str, CompiledTemplate] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_compile(self, key: str, build: Callable[[], CompiledTemplate]) -> CompiledTemplate:
        with self._lock:  # held while compiling: one compilation per template, not one per thread
            found = self._entries.get(key)
            if found is not None:
                self.hits += 1
                self._entries.move_to_end(key)
                return found
            self.misses += 1
            compiled = build()
            self._entries[key] = compiled
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
            return compiled


DEFAULT_CACHE = TemplateCache()


def content_hash(template: MessageTemplate, limits: RenderLimits) -> str:
    """A hash of everything that determines the compiled template."""
    content = {
        "compiler": COMPILER_VERSION,
        "kind": type(template).__name__,
        "template": asdict(template),
        "limits": asdict(limits),
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(canonical.encode()).hexdigest()


def compile_template(
    template: MessageTemplate,
    *,
    limits: RenderLimits = DEFAULT_LIMITS,
    cache: TemplateCache | None = None,
) -> CompiledTemplate:
    """Validate and compile `template` once; later calls with the same content reuse it."""
    cache = DEFAULT_CACHE if cache is None else cache
    key = content_hash(template, limits)
    if isinstance(template, EmailTemplate):
        return cache.get_or_compile(key, lambda: _compile_email(template, key, limits, cache))
    if isinstance(template, SmsTemplate):
        return cache.get_or_compile(key, lambda: _compile_sms(template, key, limits))
    if isinstance(template, WebhookTemplate):
        return cache.get_or_compile(key, lambda: _compile_webhook(template, key, limits))
    raise TypeError(f"not a message template: {type(template).__name__}")


def _sender_address(value: str | None, field_name: str) -> str | None:
    if value is None:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise TemplateCompileError(f"{field_name} is not a valid email address: {error}") from None


def _header_text(value: str | None, field_name: str) -> str | None:
    if value is not None and any(ch in value for ch in "\r\n\x00"):
        raise TemplateCompileError(f"{field_name} must be a single line")
    return value


def _compile_email(
    template: EmailTemplate, key: str, limits: RenderLimits, cache: TemplateCache
) -> CompiledEmail:
    if (template.html is None) == (template.mjml is None):
        raise TemplateCompileError("an email template needs exactly one body: html or mjml")
    if not template.subject.strip():
        raise TemplateCompileError("the subject is empty", part="subject")
    subject = compile_part(
        template.subject,
        part="subject",
        html=False,
        limits=limits,
        max_output=limits.max_subject_chars,
    )
    if template.mjml is not None:
        if len(template.mjml) > limits.max_source_chars:
            raise TemplateLimitError(
                f"the template is {len(template.mjml):,} characters long; the limit is "
                f"{limits.max_source_chars:,}",
                part="mjml",
            )
        cache.mjml_compilations += 1
        html_source = mjml_to_html_template(template.mjml, part="mjml")
        html = compile_part(
            html_source,
            part="mjml",
            html=True,
            limits=limits,
            max_source=limits.max_output_chars,
            with_line=False,
        )
    else:
        html_source = template.html or ""
        html = compile_part(html_source, part="html", html=True, limits=limits)
    if template.require_unsubscribe_link and "unsubscribe_url" not in html.variables:
        raise TemplateCompileError(
            "the body must link to {{ unsubscribe_url }}: marketing email needs a visible "
            "unsubscribe link (CAN-SPAM; Gmail and Yahoo bulk-sender rules)",
            part=html.part,
        )
    if template.text is not None:
        text: CompiledPart | None = compile_part(
            template.text, part="text", html=False, limits=limits
        )
    else:
        text = derive_text_template(html_source, limits)
    return CompiledEmail(
        name=template.name,
        content_hash=key,
        limits=limits,
        subject=subject,
        html=html,
        text=text,
        text_is_derived=template.text is None,
        from_address=_sender_address(template.from_address, "from_address"),
        from_name=_header_text(template.from_name, "from_name"),
        reply_to=_sender_address(template.reply_to, "reply_to"),
    )


def _compile_sms(template: SmsTemplate, key: str, limits: RenderLimits) -> CompiledSms:
    if not template.body.strip():
        raise TemplateCompileError("the SMS body is empty", part="body")
    body = compile_part(
        template.body, part="body", html=False, limits=limits, max_output=limits.max_sms_chars
    )
    return CompiledSms(name=template.name, content_hash=key, limits=limits, body=body)


def _compile_webhook(template: WebhookTemplate, key: str, limits: RenderLimits) -> CompiledWebhook:
    payload = compile_payload(template.payload, limits)
    return CompiledWebhook(
        name=template.name,
        content_hash=key,
        limits=limits,
        payload=payload,
        reads=payload_variables(payload),
    )
