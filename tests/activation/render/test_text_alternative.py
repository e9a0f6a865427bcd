"""The text/plain alternative: readable text with its links, derived once per template."""

from activation.render import EmailTemplate, compile_template, render_message
from activation.render.html_text import html_to_text


def test_html_to_text_keeps_what_a_reader_needs():
    html = """<html><head><title>Ignored</title><style>.a { color: red }</style></head>
    <body><div style="display: none; max-height: 0">Hidden preheader</div>
    <!--[if mso | IE]><table><tr><td><![endif]-->
    <h1>Spring &amp; summer</h1>
    <p>Read   our
       <a href="https://x.example/news?a=1&amp;b=2">latest news</a> now.</p>
    <ul><li>Jackets</li><li>Shoes</li></ul>
    <p><a href="https://x.example/">https://x.example/</a>
    <a href="mailto:help@x.example">help@x.example</a>
    <a href="#top">Back to top</a>
    <a href="https://x.example/c"><img src="c.png" alt="Catalogue"></a></p>
    <table><tr><td>Total</td><td>$12.00</td></tr></table>
    <script>track()</script></body></html>"""
    assert html_to_text(html) == (
        "Spring & summer\n"
        "\n"
        "Read our latest news (https://x.example/news?a=1&b=2) now.\n"
        "\n"
        "- Jackets\n"
        "- Shoes\n"
        "\n"
        "https://x.example/ help@x.example Back to top Catalogue (https://x.example/c)\n"
        "\n"
        "Total $12.00"
    )


def test_the_text_template_is_derived_once_and_follows_the_html_logic(context):
    html = """<p>Hi {{ first_name }}</p>
    {% if vip %}<p class="{% if gold %}gold{% endif %}">Free shipping for you.</p>{% endif %}
    <ul>{% for p in products %}<li><a href="{{ p.url }}">{{ p.name }}</a></li>{% endfor %}</ul>
    <p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>"""
    compiled = compile_template(EmailTemplate(name="t", subject="s", html=html))
    assert compiled.text is not None  # no per-message HTML parsing
    products = [
        {"name": "Cap", "url": "https://x.example/cap"},
        {"name": "Tee", "url": "https://x.example/tee"},
    ]

    def text(**row):
        return render_message(
            compiled,
            message_id="m",
            profile_id="p",
            channel_address="a@example.com",
            row={"first_name": "Ada", "gold": True, **row},
            context=context,
        ).text

    vip = text(vip=True, products=products)
    assert vip.splitlines()[:6] == [
        "Hi Ada",
        "",
        "Free shipping for you.",
        "",
        "- Cap (https://x.example/cap)",
        "- Tee (https://x.example/tee)",
    ]
    plain = text(vip=False, products=[])
    assert plain.splitlines()[:2] == ["Hi Ada", ""]
    assert plain.splitlines()[2].startswith("Unsubscribe (https://mail.tidemark.example/u/")
    assert "Free shipping" not in plain and "- " not in plain


def test_when_the_text_cannot_be_derived_once_it_is_derived_per_message(context):
    # A statement inside an in-page link is dropped from the text, so the text template
    # would lose it: each rendered HTML is converted instead.
    html = (
        '<p>Hi {{ first_name }}</p><a href="#{% if x %}top{% endif %}">Back</a> '
        '<a href="{{ unsubscribe_url }}">Unsubscribe</a>'
    )
    compiled = compile_template(EmailTemplate(name="t", subject="s", html=html))
    assert compiled.text is None
    message = render_message(
        compiled,
        message_id="m",
        profile_id="p",
        channel_address="a@example.com",
        row={"first_name": "Ada", "x": True},
        context=context,
    )
    assert message.text.startswith("Hi Ada\n\nBack Unsubscribe (https://mail.tidemark.example/u/")
