"""render_message for every channel, and batches that survive recipients who cannot be rendered."""

import json
from datetime import datetime
from decimal import Decimal

import pytest

from activation.render import (
    CompiledWebhook,
    EmailTemplate,
    Recipient,
    RecipientAddressError,
    RenderLimits,
    SmsTemplate,
    TemplateCompileError,
    TemplateLimitError,
    TemplateRenderError,
    WebhookTemplate,
    compile_template,
    render_batch,
    render_message,
    verify_unsubscribe_token,
)
from connectors.destinations.message import Channel

from .conftest import SECRET

HTML = '<p>Hi {{ first_name }}, {{ orders }} orders.</p><a href="{{ unsubscribe_url }}">Stop</a>'


def _recipients(rows, address="email"):
    return [Recipient(f"m{i}", r["profile_id"], r[address], r) for i, r in enumerate(rows)]


def test_one_bad_recipient_never_stops_the_batch(segment_rows, context):
    rows = [dict(r) for r in segment_rows[:6]]
    del rows[1]["first_name"]  # a row without the column the template needs
    rows[3]["email"] = "not-an-address"
    rows[4]["email"] = "eve@example.com\r\nBcc: everyone@example.com"
    template = EmailTemplate(name="t", subject="Hi {{ first_name }}", html=HTML)
    batch = render_batch(template, _recipients(rows), context=context)
    assert [m.profile_id for m in batch.messages] == ["p1", "p3", "p6"]
    failures = {f.profile_id: f for f in batch.failures}
    assert set(failures) == {"p2", "p4", "p5"}
    assert failures["p2"].error == "TemplateRenderError"
    assert failures["p2"].reason.startswith("subject, line 1: 'first_name' is undefined")
    assert failures["p2"].message_id == "m1"
    assert failures["p4"].error == failures["p5"].error == "RecipientAddressError"
    assert failures["p4"].reason == "the recipient's email address is not valid"


def test_a_template_that_does_not_compile_fails_the_batch_not_the_recipients(segment_rows, context):
    broken = EmailTemplate(name="t", subject="Hi {{ first_name", html=HTML)
    with pytest.raises(TemplateCompileError, match="subject"):
        render_batch(broken, _recipients(segment_rows[:3]), context=context)


def test_render_message_checks_the_address_for_the_channel(context):
    sms = compile_template(SmsTemplate(name="s", body="Hi"))
    with pytest.raises(RecipientAddressError, match=r"E\.164"):
        render_message(
            sms,
            message_id="m",
            profile_id="p",
            channel_address="555-625-1199",
            row={},
            context=context,
        )


def test_sms_is_plain_text_with_its_own_length_limit(segment_rows, context):
    template = SmsTemplate(
        name="sms",
        body="Hi {{ first_name }}! {{ lifetime_value | money('$') }} spent so far. "
        "Stop: {{ unsubscribe_url }}",
    )
    row = dict(segment_rows[2], first_name="<Kat & co>", phone="+15556251199")
    message = render_message(
        compile_template(template),
        message_id="m9",
        profile_id="p3",
        channel_address=row["phone"],
        row=row,
        context=context,
    )
    assert message.channel is Channel.SMS and message.to == "+15556251199"
    assert message.text.startswith("Hi <Kat & co>! $65.00 spent so far. Stop: https://")
    assert message.html is None and message.subject is None
    token = message.text.rsplit("/u/", 1)[1]
    assert verify_unsubscribe_token(SECRET, token).channel is Channel.SMS

    short = compile_template(
        SmsTemplate(name="sms", body="{{ note }}"), limits=RenderLimits(max_sms_chars=160)
    )
    with pytest.raises(TemplateLimitError, match="longer than the limit of 160"):
        render_message(
            short,
            message_id="m",
            profile_id="p",
            channel_address="+15556251199",
            row={"note": "x" * 161},
            context=context,
        )


PAYLOAD = {
    "event": "win_back",
    "profile": {
        "id": "{{ profile_id }}",
        "email": "{{ email }}",
        "name": "{{ first_name }} {{ last_name }}",
    },
    "lifetime_value": "{{ lifetime_value }}",
    "orders": "{{ orders }}",
    "last_order": "{{ last_order_date }}",
    "is_vip": "{{ lifetime_value is not none and lifetime_value > 50 }}",
    "tags": ["lifecycle", "{{ campaign_slug }}", "{{ [orders, first_name] }}"],
    "schema_version": 3,
    "ratio": 0.5,
    "note": None,
    "unsubscribe": "{{ unsubscribe_url }}",
}


def test_webhook_payloads_render_to_json_types(segment_rows, context):
    compiled = compile_template(WebhookTemplate(name="hook", payload=PAYLOAD))
    assert isinstance(compiled, CompiledWebhook)
    assert {"first_name", "lifetime_value", "campaign_slug"} <= compiled.variables
    url = "https://hooks.example.com/tidemark"
    kathleen = render_message(
        compiled,
        message_id="m3",
        profile_id="p3",
        channel_address=url,
        row=segment_rows[2],
        context=context,
    )
    assert kathleen.channel is Channel.WEBHOOK and kathleen.to == url
    payload = kathleen.payload
    assert payload == {
        "event": "win_back",
        "profile": {"id": "p3", "email": "kathleen.3@example.com", "name": "Kathleen P."},
        "lifetime_value": 65,
        "orders": 3,
        "last_order": "2018-03-11",
        "is_vip": True,
        "tags": ["lifecycle", "spring-drop", [3, "Kathleen"]],
        "schema_version": 3,
        "ratio": 0.5,
        "note": None,
        "unsubscribe": payload["unsubscribe"],
    }
    assert payload["unsubscribe"].startswith("https://mail.tidemark.example/u/")
    assert json.loads(json.dumps(payload)) == payload  # no default= needed

    never_ordered = render_message(
        compiled,
        message_id="m99",
        profile_id="p100",
        channel_address=url,
        row=segment_rows[99],
        context=context,
    ).payload
    assert (never_ordered["lifetime_value"], never_ordered["orders"]) == (None, None)
    assert never_ordered["is_vip"] is False

    cents = render_message(
        compiled,
        message_id="m",
        profile_id="p",
        channel_address=url,
        row=dict(segment_rows[0], lifetime_value=Decimal("12.34")),
        context=context,
    ).payload
    assert cents["lifetime_value"] == 12.34


def test_webhook_values_json_cannot_carry_are_clear_errors(segment_rows, context):
    compiled = compile_template(WebhookTemplate(name="hook", payload={"x": "{{ value }}"}))
    with pytest.raises(
        TemplateRenderError, match=r"payload\.x: a set value cannot be sent as JSON"
    ):
        render_message(
            compiled,
            message_id="m",
            profile_id="p",
            channel_address="https://h.example/",
            row={"value": {1, 2}},
            context=context,
        )
    with pytest.raises(TemplateCompileError, match=r"payload\.when: a datetime cannot be part"):
        compile_template(WebhookTemplate(name="hook", payload={"when": datetime(2024, 1, 1)}))
    nested = compile_template(WebhookTemplate(name="h", payload={"a": ["{{ missing }}"]}))
    with pytest.raises(TemplateRenderError, match=r"payload\.a\[0\]: 'missing' is undefined"):
        render_message(
            nested,
            message_id="m",
            profile_id="p",
            channel_address="https://h.example/",
            row={},
            context=context,
        )
