"""The dashboards in a real browser: headless Chromium against the app served by uvicorn.

A marketer signs in with a token, opens every page, creates an activation in the flow (the
live preview shows the message for a sample member), confirms it after the dry run and
watches it complete; an admin approves a run held by its size limit. Dagster's part —
carrying out queued requests — is played by `carry_out_requests`; the page picks the change
up by itself (the test waits on the page's state, never on time). Screenshots go to
test-artifacts/screenshots/.
"""

import re

import pytest

from tests.dashboards.browser import CHROMIUM, LAUNCH_ARGS, require_chromium, screenshot, serve
from tests.dashboards.conftest import carry_out_requests

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LAPTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def served(site):
    with serve(site.app) as base_url:
        yield site, base_url


def signed_in(browser, base_url, token, viewport=LAPTOP):
    context = browser.new_context(viewport=viewport, base_url=base_url)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto("/")
    assert "/sign-in" in page.url  # a stranger is sent to sign in
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    return page


def write_email(page, subject, body):
    page.fill("#subject", subject)
    page.fill("#from_address", "shop@example.com")
    page.fill("#body", body + '<a href="{{ unsubscribe_url }}">Unsubscribe</a>')


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_every_page_opens_at_laptop_and_tablet_width(browser, served):
    site, base_url = served
    for label, viewport in (("laptop", LAPTOP), ("tablet", TABLET)):
        page = signed_in(browser, base_url, site.tokens["admin"], viewport)
        cookie = next(c for c in page.context.cookies() if c["name"] == "tidemark_token")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert page.evaluate("document.cookie") == ""  # scripts cannot read the session
        for name, path, expected in (
            ("overview", "/", "Loyal customers"),
            ("segment", "/segments/loyal", "growth-team"),
            ("activations", "/activations", "No activations yet"),
            ("new-activation", "/activations/new", "Preview"),
            ("runs", "/runs", "No runs yet"),
            ("experiments", "/experiments", "very likely better"),
            ("deliverability", "/deliverability", "Gmail limit 0.3%"),
            ("approvals", "/approvals", "Nothing is waiting for approval"),
            ("audit", "/audit", "Audit trail"),
        ):
            response = page.goto(path)
            assert response.status == 200, path
            assert expected in page.content(), path
            assert fits_the_width(page), f"{path} scrolls sideways at {label} width"
            screenshot(page, f"{label}-{name}")
        page.context.close()


def test_a_marketer_creates_previews_confirms_and_watches_a_run_complete(browser, served):
    site, base_url = served
    page = signed_in(browser, base_url, site.tokens["marketer"])
    page.click("text=New activation")
    page.select_option("#segment", "loyal")
    write_email(page, "Thanks, {{ first_name }}", "<p>Hello {{ first_name }}</p>")
    preview = page.frame_locator("#preview-frame")
    preview.locator("text=Hello Ann").wait_for()
    assert "subject: Thanks, Ann" in page.inner_text("#preview-meta")
    page.fill("#name", "loyal_thanks")
    screenshot(page, "flow-1-message-and-preview")

    page.click("[data-testid=save]")

    page.wait_for_selector("[data-testid=queued]")
    screenshot(page, "flow-2-dry-run-queued")
    carry_out_requests(site.state)  # Dagster's sensor and job
    page.wait_for_selector("#run[data-final=true]")
    assert page.inner_text("[data-field=planned]") == "40"
    assert page.inner_text("[data-field=excluded]") == "3"
    assert site.sink.received == []
    screenshot(page, "flow-3-dry-run-counts")

    page.click("[data-testid=confirm]")

    page.wait_for_selector("[data-testid=queued]")
    carry_out_requests(site.state)
    page.wait_for_selector("#run[data-final=true]")
    assert page.inner_text("[data-field=status]") == "completed"
    assert page.inner_text("[data-field=sent]") == "40"
    assert len(site.sink.received) == 40
    assert "/runs?q" in page.get_attribute("[data-testid=dagster-link]", "href")
    screenshot(page, "flow-4-run-completed")
    page.goto("/")
    assert re.search(r"loyal_thanks\s+run\s+completed", page.inner_text("table >> nth=1"))


def test_an_admin_approves_a_held_run(browser, served):
    site, base_url = served
    marketer = signed_in(browser, base_url, site.tokens["marketer"])
    marketer.goto("/activations/new?segment=loyal")
    write_email(marketer, "Big news", "<p>News</p>")
    marketer.fill("#max_change", "5")
    marketer.fill("#name", "big_news")
    marketer.click("[data-testid=save]")
    marketer.wait_for_selector("[data-testid=queued]")
    carry_out_requests(site.state)
    marketer.wait_for_selector("[data-testid=confirm]:visible")
    marketer.click("[data-testid=confirm]")
    run_url = marketer.url
    carry_out_requests(site.state)
    marketer.wait_for_selector("[data-field=status]:has-text('awaiting_approval')")
    assert "Approvals" not in marketer.inner_text("nav")
    assert site.sink.received == []

    admin = signed_in(browser, base_url, site.tokens["admin"])
    admin.click("nav >> text=Approvals")
    screenshot(admin, "approval-1-held")
    admin.click("button:has-text('Approve and send')")

    admin.wait_for_url(run_url)
    admin.goto("/approvals")
    admin.wait_for_selector("[data-testid^=approval-]:has-text('Approval pending')")
    carry_out_requests(site.state)  # Dagster carries the queued approval out
    admin.goto(run_url)
    admin.wait_for_selector("#run[data-final=true]")
    assert admin.inner_text("[data-field=status]") == "completed"
    assert admin.inner_text("[data-field=sent]") == "40"
    assert len(site.sink.received) == 40
    screenshot(admin, "approval-2-completed")
