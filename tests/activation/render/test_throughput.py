"""Rendering the MJML newsletter for thousands of recipients, compiled once.

The test checks that every message renders; the rates are printed and recorded as test
properties for information only — speed is a benchmark's business (see docs/benchmarks.md),
never a pass/fail condition on a shared CI machine.
"""

import time

from activation.render import EmailTemplate, Recipient, compile_template, render_batch
from activation.render.context import template_variables
from activation.render.limits import RenderScope

ROUNDS = 3


def _best_rate(count: int, work) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return count / best


def test_rendering_thousands_of_messages_from_one_compile(
    newsletter_mjml, segment_rows, context, capsys, record_property
):
    compiled = compile_template(
        EmailTemplate(name="n", subject="{{ first_name }}, new arrivals", mjml=newsletter_mjml)
    )
    recipients = [
        Recipient(f"m{i}", f"p{i}", row["email"], row) for i in range(30) for row in segment_rows
    ]  # 3,000 messages
    emails_per_s = _best_rate(
        len(recipients), lambda: render_batch(compiled, recipients, context=context)
    )
    rendered = render_batch(compiled, recipients, context=context)
    assert not rendered.failures
    assert len(rendered.messages) == len(recipients)

    variables = template_variables(
        segment_rows[0], context, message_id="m", profile_id="p", unsubscribe_url="https://u/x"
    )

    def html_only():
        for _ in range(len(recipients)):
            with RenderScope(compiled.limits):  # a fresh budget per message, as in delivery
                compiled.html.render(variables)

    html_per_s = _best_rate(len(recipients), html_only)
    record_property("emails_per_s", round(emails_per_s))
    record_property("html_bodies_per_s", round(html_per_s))
    with capsys.disabled():
        print(
            f"\nrender throughput (1 core, MJML newsletter): {emails_per_s:,.0f} complete "
            f"emails/s (subject + HTML + text + signed unsubscribe headers), "
            f"{html_per_s:,.0f} HTML bodies/s"
        )
