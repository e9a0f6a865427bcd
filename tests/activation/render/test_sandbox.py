"""The sandbox: what templates can do, what they cannot reach, and the limits on their work."""

import re

import pytest

from activation.render import (
    DEFAULT_LIMITS,
    RenderLimits,
    TemplateCompileError,
    TemplateLimitError,
    TemplateRenderError,
    TemplateSecurityError,
)
from activation.render.limits import RenderScope
from activation.render.sandbox import compile_part, with_globals


def render(source, *, html=True, limits=DEFAULT_LIMITS, timezone="UTC", **variables):
    part = compile_part(source, part="body", html=html, limits=limits)
    with RenderScope(limits, timezone):
        return part.render(with_globals(variables))


# Each must be refused with TemplateSecurityError, at compile time or when rendered.
INJECTIONS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ range.__globals__ }}",
    "{{ ''['__class__'] }}",
    "{{ first_name.__class__ }}",
    "{{ first_name|attr('__class__') }}",
    "{{ [first_name]|map(attribute='__class__')|list }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{% from 'macros' import helper %}",
    "{% extends 'base.html' %}",
    "{% autoescape false %}{{ first_name }}{% endautoescape %}",
    "{% set ns = namespace() %}{% set ns.__class__ = 1 %}",
    "{{ '{0.__class__.__init__.__globals__}'.format(first_name) }}",
    "{{ '{x.__class__}'.format_map({'x': first_name}) }}",
    "{{ '%s %s' % (first_name, first_name) }}",
    "{{ first_name.center(100000000) }}",
    "{{ orders.append(1) }}",
    "{{ row.update({'a': 1}) }}",
    "{{ row[key] }}",  # a key that only exists at render time
    "{% block b %}x{% endblock %}{{ self.b() }}",
]


@pytest.mark.parametrize("source", INJECTIONS)
def test_injection_attempts_fail_with_a_security_error(source):
    variables = {"first_name": "Ada", "orders": [1], "row": {"a": 0}, "key": "__class__"}
    with pytest.raises(TemplateSecurityError) as raised:
        render(source, **variables)
    message = str(raised.value)
    # Safe to show a marketer: no object reprs, addresses, modules or file contents.
    for leak in ("<", "0x", "module", "root:", "function"):
        assert leak not in message


def test_security_errors_name_the_part_and_line():
    with pytest.raises(TemplateSecurityError) as raised:
        compile_part("Hello\n{{ x.__class__ }}", part="subject", html=False, limits=DEFAULT_LIMITS)
    assert raised.value.part == "subject"
    assert raised.value.line == 2
    assert "'__class__'" in str(raised.value)


def test_a_missing_variable_is_an_error_naming_it_and_its_line():
    with pytest.raises(TemplateRenderError) as raised:
        render("Hi {{ first_name }},\nyour code is {{ coupon_code }}", first_name="Ada")
    assert "'coupon_code' is undefined" in str(raised.value)
    assert raised.value.line == 2


def test_default_covers_missing_and_null_values():
    source = "Hi {{ first_name | default('there') }} from {{ city | d('your town') }}"
    assert render(source, first_name=None) == "Hi there from your town"
    assert render(source, first_name="Ada", city="Lyon") == "Hi Ada from Lyon"
    assert render("{% if nickname is defined %}{{ nickname }}{% else %}-{% endif %}") == "-"


def test_null_prints_as_empty_text():
    assert render("[{{ middle_name }}]", middle_name=None) == "[]"


def test_html_parts_escape_values_and_text_parts_do_not():
    name = "<script>alert(1)</script> & co"
    assert render("Hi {{ n }}", n=name) == "Hi &lt;script&gt;alert(1)&lt;/script&gt; &amp; co"
    assert render("Hi {{ n }}", html=False, n=name) == f"Hi {name}"
    assert render("{{ a ~ b }}", a="<b>", b="&") == "&lt;b&gt;&amp;"
    assert render("{{ items | join(', ') }}", items=["<i>", "b"]) == "&lt;i&gt;, b"
    assert render('<a href="{{ url }}">x</a>', url='" onclick="x') == (
        '<a href="&#34; onclick=&#34;x">x</a>'
    )


def test_filters_for_marketers():
    assert render("{{ n | title }}", n="ada lovelace") == "Ada Lovelace"
    assert render("{{ 3.14159 | round(2) }}") == "3.14"
    assert render("{{ v | money }} {{ v | money('$') }}", v=1234.5) == "1,234.50 $1,234.50"
    assert render("{{ v | money('€') }}", v=-2.675) == "-€2.68"  # half up, not float error
    assert render("{{ v | money }}", v=None) == ""
    with pytest.raises(TemplateRenderError, match="'money' expects a number"):
        render("{{ v | money }}", v="lots")
    with pytest.raises(TemplateCompileError, match="unknown filter 'center'"):
        render("{{ v | center(10) }}", v="x")


def test_dates_are_shown_in_the_recipients_time_zone():
    from datetime import UTC, date, datetime

    moment = datetime(2024, 3, 31, 23, 30)  # naive: UTC, the warehouse convention
    assert render("{{ t | datetime }}", t=moment) == "2024-03-31 23:30"
    assert render("{{ t | datetime('%d %b %H:%M %Z') }}", timezone="Europe/Paris", t=moment) == (
        "01 Apr 01:30 CEST"
    )
    assert render("{{ t | date }}", timezone="Asia/Tokyo", t=moment) == "2024-04-01"
    assert render("{{ t | date(tz='America/New_York') }}", t=moment.replace(tzinfo=UTC)) == (
        "2024-03-31"
    )
    assert render("{{ t | date('%A') }}", t="2024-03-31T23:30:00+00:00") == "Sunday"
    assert render("{{ d | date('%d/%m/%Y') }}", d=date(2024, 2, 29)) == "29/02/2024"
    with pytest.raises(TemplateRenderError, match="unknown time zone 'Mars/Olympus'"):
        render("{{ t | datetime(tz='Mars/Olympus') }}", t=moment)


def test_loops_macros_and_namespaces_work_within_limits():
    source = (
        "{% macro line(p) %}{{ p.name }}={{ p.price | money }}{% endmacro %}"
        "{% set ns = namespace(total=0) %}"
        "{% for p in items %}{{ line(p) }};{% set ns.total = ns.total + p.price %}{% endfor %}"
        "total={{ ns.total | money }} {% for i in range(3) %}{{ loop.cycle('a', 'b') }}{% endfor %}"
    )
    items = [{"name": "tee", "price": 20}, {"name": "cap", "price": 12.5}]
    assert render(source, items=items) == "tee=20.00;cap=12.50;total=32.50 aba"


LIMITS = RenderLimits(
    max_output_chars=1_000, max_string_chars=500, max_range=50, max_operations=200
)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{% for i in range(51) %}{% endfor %}", "range() of 51 numbers exceeds the limit of 50"),
        ("{% for i in range(50) %}{% for j in range(50) %}{% endfor %}{% endfor %}", "200"),
        ("{% for c in s %}{% for d in s %}{% endfor %}{% endfor %}", "runaway loop"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "macro"),
        ("{{ 'ab' * 300 }}", "the * operator would build a value of 600 items"),
        ("{{ s + s + s + s + s + s }}", "the + operator"),
        ("{% set a = s ~ s %}{% set b = a ~ a %}{% set c = b ~ b %}{{ c }}", "the ~ operator"),
        ("{{ s | replace('x', 'xxxxxxxxxx') }}", "the filter 'replace'"),
        ("{{ [s, s, s, s, s, s] | join }}", "the filter 'join'"),
        ("{{ 7 ** 100000 }}", "3,000 digits"),
        ("{% for i in range(40) %}{{ s }}{% endfor %}", "longer than the limit of 1,000"),
        ("{{ s }}" * 11, "longer than the limit of 1,000"),
    ],
)
def test_runaway_templates_stop_at_the_limits(source, message):
    with pytest.raises(TemplateLimitError, match=re.escape(message)):
        render(source, limits=LIMITS, s="x" * 100)


def test_the_template_source_size_is_limited():
    limits = RenderLimits(max_source_chars=100)
    with pytest.raises(TemplateLimitError, match="101 characters long; the limit is 100"):
        compile_part("x" * 101, part="body", html=True, limits=limits)


def test_syntax_errors_name_the_line():
    with pytest.raises(TemplateCompileError) as raised:
        compile_part("ok\n\n{{ price | }}", part="text", html=False, limits=DEFAULT_LIMITS)
    assert raised.value.part == "text"
    assert raised.value.line == 3
    assert str(raised.value).startswith("text, line 3: ")
