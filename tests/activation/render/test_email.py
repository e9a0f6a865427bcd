"""Emails for real segment rows: content, text alternative, one-click unsubscribe headers."""

import re
from urllib.parse import urlsplit

import pytest

from activation.render import (
    EmailTemplate,
    Recipient,
    TemplateCompileError,
    compile_template,
    render_batch,
    render_message,
    verify_unsubscribe_token,
)
from connectors.destinations.message import Channel

from .conftest import SECRET

SIMPLE_HTML = """<html><head><style>p { color: red }</style></head><body>
<div style="display:none">Preheader for {{ first_name }}</div>
<h1>Hello {{ first_name }}</h1>
<p>Your orders: {{ orders | default(0) }}.
<a href="https://shop.example.com/?pid={{ profile_id }}">Visit the shop</a></p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>
</body></html>"""


def _email(template, row, context, message_id="msg-1"):
    return render_message(
        compile_template(template),
        message_id=message_id,
        profile_id=row["profile_id"],
        channel_address=row["email"],
        row=row,
        context=context,
    )


@pytest.fixture
def newsletter(newsletter_mjml):
    return EmailTemplate(
        name="spring newsletter",
        subject="{{ first_name | default('Hey') }}, the {{ campaign_name }} is here",
        mjml=newsletter_mjml,
        from_address="news@shop.example.com",
        from_name="Tidemark Outfitters",
        reply_to="help@shop.example.com",
    )


def test_the_newsletter_renders_for_every_segment_row(newsletter, segment_rows, context, cache):
    recipients = [
        Recipient(f"m{i}", r["profile_id"], r["email"], r) for i, r in enumerate(segment_rows)
    ]
    batch = render_batch(newsletter, recipients, context=context, cache=cache)
    assert batch.failures == []
    assert len(batch.messages) == len(segment_rows) == 100
    first = batch.messages[0]  # Michael: 2 orders, $33.00, last order 2018-02-10
    assert first.to == "michael.1@example.com"
    assert first.subject == "Michael, the Spring drop is here"
    assert first.from_address == "news@shop.example.com"
    assert first.reply_to == "help@shop.example.com"
    assert "Since your last order on February 10, 2018 you have placed 2 orders worth $33.00." in (
        first.html
    )
    assert "{{" not in first.html and "{%" not in first.html
    assert first.html.count("https://shop.example.com/p/") >= 3  # the loop over featured items
    never_ordered = next(m for m in batch.messages if m.profile_id == "p100")
    assert "You have not ordered yet" in never_ordered.html
    assert "Since your last order" not in never_ordered.html


def test_conditionals_between_mjml_elements_keep_guarding_their_content(
    newsletter, segment_rows, context
):
    # The newsletter inlines its CSS (mj-style inline), which re-parses the HTML: the
    # {% if %} must still wrap the paragraph it guards, in the HTML and in the text.
    big = next(r for r in segment_rows if r["lifetime_value"] and r["lifetime_value"] > 50)
    small = next(r for r in segment_rows if r["lifetime_value"] and r["lifetime_value"] <= 50)
    for row, shown in ((big, True), (small, False)):
        message = _email(newsletter, row, context)
        assert ("shipping is on us" in message.html) is shown
        assert ("shipping is on us" in message.text) is shown


def test_the_derived_text_alternative_keeps_links_and_drops_markup(
    newsletter, segment_rows, context
):
    message = _email(newsletter, segment_rows[0], context)
    text = message.text
    assert "Hi Michael," in text
    assert (
        "Shop new arrivals (https://shop.example.com/new?utm_campaign=spring-drop&pid=p1)" in text
    )
    assert "Rain jacket (https://shop.example.com/p/1)" in text
    assert "$25.00 (under $30)" in text
    unsubscribe_url = re.search(r"<(https://[^>]+)>", message.headers["List-Unsubscribe"]).group(1)
    assert f"Unsubscribe ({unsubscribe_url})" in text
    for markup in ("<", "{{", "{%", "color:", "mso", "New arrivals picked for you"):
        assert markup not in text  # tags, Jinja, CSS, Outlook comments, the hidden preheader
    assert "\n\n\n" not in text


def test_text_alternative_from_an_html_template(segment_rows, context):
    template = EmailTemplate(name="plain", subject="Hi", html=SIMPLE_HTML)
    message = _email(template, segment_rows[0], context)
    assert message.text.splitlines()[:3] == [
        "Hello Michael",
        "",
        "Your orders: 2. Visit the shop (https://shop.example.com/?pid=p1)",
    ]
    assert "Preheader" not in message.text and "color" not in message.text


def test_an_explicit_text_template_is_used_as_written(segment_rows, context):
    template = EmailTemplate(
        name="with text",
        subject="Hi",
        html=SIMPLE_HTML,
        text="Hi {{ first_name }} <3\nUnsubscribe: {{ unsubscribe_url }}",
    )
    message = _email(template, segment_rows[0], context)
    assert message.text.startswith("Hi Michael <3\nUnsubscribe: https://mail.tidemark.example/u/")


def test_values_are_escaped_in_html_but_not_in_subject_or_text(segment_rows, context):
    row = dict(segment_rows[0], first_name="<script>alert('x')</script>")
    template = EmailTemplate(name="x", subject="Hi {{ first_name }}", html=SIMPLE_HTML)
    message = _email(template, row, context)
    assert "<script>" not in message.html
    assert "Hello &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in message.html
    assert message.subject == "Hi <script>alert('x')</script>"
    assert "Hello <script>alert('x')</script>" in message.text


def test_a_subject_cannot_inject_headers(segment_rows, context):
    row = dict(segment_rows[0], first_name="Ann\r\nBcc: victim@example.com")
    template = EmailTemplate(name="x", subject="Hi {{ first_name }}\n!", html=SIMPLE_HTML)
    message = _email(template, row, context)
    assert message.subject == "Hi Ann Bcc: victim@example.com !"


def test_every_email_carries_rfc_8058_one_click_unsubscribe(segment_rows, context):
    row = segment_rows[2]
    message = _email(EmailTemplate(name="x", subject="Hi", html=SIMPLE_HTML), row, context, "m-77")
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.message_id == "m-77"  # destinations turn it into X-Tidemark-Message-Id
    assert "X-Tidemark-Message-Id" not in message.headers  # so it is never sent twice
    targets = re.findall(r"<([^>]+)>", message.headers["List-Unsubscribe"])
    assert re.fullmatch(r"<[^>]+>(, <[^>]+>)*", message.headers["List-Unsubscribe"])
    https, mailto = targets
    url = urlsplit(https)
    assert url.scheme == "https" and url.netloc == "mail.tidemark.example"
    token = url.path.removeprefix("/u/")
    claim = verify_unsubscribe_token(SECRET, token)
    assert (claim.message_id, claim.profile_id, claim.channel) == ("m-77", "p3", Channel.EMAIL)
    assert mailto == f"mailto:unsubscribe@tidemark.example?subject=unsubscribe%20{token}"
    assert f'href="{https}"' in message.html  # the body links to the same URL


def test_a_row_cannot_redirect_the_unsubscribe_link(segment_rows, context):
    row = dict(segment_rows[0], unsubscribe_url="https://evil.example/")
    message = _email(EmailTemplate(name="x", subject="Hi", html=SIMPLE_HTML), row, context)
    assert "evil.example" not in message.html
    assert "https://mail.tidemark.example/u/" in message.html


def test_marketing_email_must_contain_an_unsubscribe_link():
    template = EmailTemplate(name="x", subject="Hi", html="<p>No way out</p>")
    with pytest.raises(TemplateCompileError, match="unsubscribe_url"):
        compile_template(template)
    allowed = EmailTemplate(name="x", subject="Hi", html="<p>x</p>", require_unsubscribe_link=False)
    assert compile_template(allowed).html.part == "html"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"html": None}, "exactly one body"),
        ({"mjml": "<mjml></mjml>"}, "exactly one body"),
        ({"subject": "  "}, "subject is empty"),
        ({"from_address": "not an address"}, "from_address is not a valid email address"),
        ({"reply_to": "a@b@c"}, "reply_to is not a valid email address"),
        ({"from_name": "Shop\r\nBcc: x@example.com"}, "from_name must be a single line"),
    ],
)
def test_invalid_email_templates_are_refused(changes, message):
    fields = {"name": "x", "subject": "Hi", "html": SIMPLE_HTML, **changes}
    with pytest.raises(TemplateCompileError, match=message):
        compile_template(EmailTemplate(**fields))
