"""MJML is compiled once per template, with the template's Jinja intact."""

import mrml
import pytest

from activation.render import (
    EmailTemplate,
    Recipient,
    TemplateCompileError,
    TemplateSecurityError,
    compile_template,
    render_batch,
    render_message,
)


def _mjml(body: str, head: str = "") -> str:
    footer = (
        '<mj-section><mj-column><mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a>'
        "</mj-text></mj-column></mj-section>"
    )
    return f"<mjml><mj-head>{head}</mj-head><mj-body>{body}{footer}</mj-body></mjml>"


def _render(mjml_source, row, context):
    compiled = compile_template(EmailTemplate(name="t", subject="Hi", mjml=mjml_source))
    return render_message(
        compiled,
        message_id="m1",
        profile_id="p1",
        channel_address="a@example.com",
        row=row,
        context=context,
    )


def test_mjml_is_compiled_once_per_template(
    newsletter_mjml, segment_rows, context, cache, monkeypatch
):
    calls = []
    real_to_html = mrml.to_html

    def counting_to_html(*args, **kwargs):
        calls.append(1)
        return real_to_html(*args, **kwargs)

    monkeypatch.setattr(mrml, "to_html", counting_to_html)
    template = EmailTemplate(name="n", subject="Hi {{ first_name }}", mjml=newsletter_mjml)
    recipients = [
        Recipient(f"m{i}", r["profile_id"], r["email"], r) for i, r in enumerate(segment_rows)
    ]
    for _ in range(3):  # three runs of the same activation
        batch = render_batch(template, recipients, context=context, cache=cache)
        assert len(batch.messages) == 100
    assert len(calls) == 1
    assert cache.mjml_compilations == 1
    assert (cache.misses, cache.hits) == (1, 2)
    changed = EmailTemplate(name="n", subject="Hello {{ first_name }}", mjml=newsletter_mjml)
    render_batch(changed, recipients[:1], context=context, cache=cache)
    assert len(calls) == 2  # a changed template is a new compilation, never a stale one


def test_loops_and_conditions_around_sections_and_columns(context):
    source = _mjml(
        "{% for item in items %}<mj-section>{% if item.big %}<mj-column>"
        "<mj-text>BIG {{ item.name }}</mj-text></mj-column>{% endif %}<mj-column>"
        "<mj-text>{{ item.name }}{% if item.price < 10 %} cheap{% endif %}</mj-text></mj-column>"
        "</mj-section>{% endfor %}",
        head='<mj-style inline="inline">.x { color: red; }</mj-style>',
    )
    items = [{"name": "A", "price": 5, "big": True}, {"name": "B", "price": 50, "big": False}]
    message = _render(source, {"items": items}, context)
    assert message.html.count("BIG A") == 1 and "BIG B" not in message.html
    assert "A cheap" in message.html and "B cheap" not in message.html
    assert [line for line in message.text.splitlines() if line][:3] == ["BIG A", "A cheap", "B"]


def test_expressions_in_attributes_and_comparisons_survive_mjml(context):
    source = _mjml(
        "<mj-section><mj-column>"
        "<mj-button href=\"{{ url | default('https://x.example/?a=1&b=2') }}\">"
        'Go</mj-button><mj-image src="{{ image }}" alt="{{ name }}" />'
        "<mj-text>{{ 1 < 2 }} {{ name }}</mj-text></mj-column></mj-section>"
    )
    message = _render(
        source, {"image": "https://cdn.example/i.png", "name": 'A "quoted" <b>'}, context
    )
    assert 'href="https://x.example/?a=1&amp;b=2"' in message.html
    assert 'src="https://cdn.example/i.png"' in message.html
    assert 'alt="A &#34;quoted&#34; &lt;b&gt;"' in message.html
    assert "True A &#34;quoted&#34; &lt;b&gt;" in message.html


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # mrml repeats background-url in CSS and Outlook markup: a tag there would repeat.
        (
            '<mj-section background-url="{% if vip %}https://a/x.png{% endif %}">'
            "<mj-column><mj-text>x</mj-text></mj-column></mj-section>",
            "repeated the tag {% if vip %}",
        ),
        (
            "<mj-section><mj-column><mj-text>{{ name }</mj-text></mj-column></mj-section>",
            "unclosed",
        ),
        ("<mj-section><mj-column><mj-text>x</mj-column></mj-section>", "MJML does not compile"),
        ('<mj-include path="/etc/passwd" />', "MJML does not compile"),
    ],
)
def test_mjml_that_cannot_work_is_refused(body, message, context):
    with pytest.raises(TemplateCompileError, match=message.replace("{", r"\{").replace("}", r"\}")):
        compile_template(EmailTemplate(name="t", subject="Hi", mjml=_mjml(body)))


def test_sandbox_rules_apply_to_mjml_templates():
    body = "<mj-section><mj-column><mj-text>{{ ''.__class__ }}</mj-text></mj-column></mj-section>"
    with pytest.raises(TemplateSecurityError):
        compile_template(EmailTemplate(name="t", subject="Hi", mjml=_mjml(body)))
