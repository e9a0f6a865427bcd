"""Every dashboard page through FastAPI's TestClient, over a small real warehouse.

What a user checks: they are sent to sign in, the numbers on each page match the warehouse,
actions their role may not take are neither shown nor accepted, forms without this
session's token are refused, and a run created in the flow reaches their inbox.
"""

import re

import pytest

from connectors.warehouse.duckdb import DuckDBWarehouse
from tests.api.test_reads import warehouse_held_by_another_process
from tests.dashboards.conftest import carry_out_requests, csrf_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

WELCOME_FORM = {
    "segment": "loyal",
    "destination": "sink",
    "channel": "email",
    "subject": "Thanks, {{ first_name }}",
    "from_address": "shop@example.com",
    "body_format": "html",
    "body": '<p>Hello {{ first_name }}</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>',
    "schedule": "once",
    "name": "loyal_thanks",
}


def value_of(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">([^<]*)<', html)
    assert found, f"no {testid} on the page"
    return found.group(1).strip()


# -- signing in ------------------------------------------------------------------------------


def test_pages_send_a_stranger_to_sign_in_and_back(site):
    client = site.client()
    answer = client.get("/segments/loyal?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=/segments/loyal%3Fx%3D1"
    form = client.get(answer.headers["location"])
    assert form.status_code == 200 and 'name="token"' in form.text

    signed_in = client.post(
        "/sign-in", data={"token": site.tokens["viewer"], "next": "/segments/loyal"}
    )

    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/segments/loyal"
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith("tidemark_token=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert client.get("/segments/loyal").status_code == 200


def test_a_wrong_token_is_refused_with_a_message(site):
    client = site.client()
    answer = client.post("/sign-in", data={"token": "tdm_not-a-real-token", "next": "/"})
    assert answer.status_code == 401
    assert "not valid" in answer.text
    assert "set-cookie" not in answer.headers
    assert client.get("/").status_code == 303


def test_sign_in_goes_back_only_to_this_site(site):
    client = site.client()
    for target in ("//evil.example.com/", "https://evil.example.com/", "/\\evil.example.com"):
        answer = client.post("/sign-in", data={"token": site.tokens["viewer"], "next": target})
        assert answer.headers["location"] == "/"


def test_a_sign_in_form_posted_from_another_site_is_refused(site):
    answer = site.client().post(
        "/sign-in",
        data={"token": site.tokens["admin"], "next": "/"},
        headers={"Origin": "https://evil.example.com"},
    )
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers


def test_sign_out_needs_the_form_token_and_forgets_the_session(site):
    client = site.client("viewer")
    page = client.get("/").text
    assert client.post("/sign-out", data={}).status_code == 403
    answer = client.post("/sign-out", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 303 and answer.headers["location"] == "/sign-in"
    assert "tidemark_token=" in answer.headers["set-cookie"]
    assert client.get("/").status_code == 303


def test_a_revoked_token_signs_the_browser_out(site):
    from sqlalchemy import select

    from connectors.ops_store.models import ApiToken
    from connectors.ops_store.tokens import revoke_token

    client = site.client("marketer")
    assert client.get("/").status_code == 200
    with site.state.sessions.begin() as session:
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.name == "marketer-person"))
        revoke_token(session, token_id)
    assert client.get("/").status_code == 303


# -- what each page shows --------------------------------------------------------------------


def test_overview_shows_profiles_reach_segments_runs_and_health(site):
    page = site.client("viewer").get("/")
    assert page.status_code == 200
    assert value_of(page.text, "profiles") == "50"
    assert value_of(page.text, "reachable-email") == "47"  # revoked, suppressed, invalid
    assert re.search(
        r'data-segment="loyal">.*?Loyal customers.*?growth-team.*?>43<', page.text, re.S
    )
    assert re.search(r'data-segment="lapsed">.*?>7<', page.text, re.S)
    # yahoo's 0.5% complaints push the week over Gmail's 0.1% target, under its 0.3% limit
    assert value_of(page.text, "deliverability-health") == "watch"
    assert "No runs yet." in page.text


def test_segment_page_shows_definition_reach_exclusions_and_members(site):
    page = site.client("viewer").get("/segments/loyal")
    assert page.status_code == 200
    assert value_of(page.text, "owner") == "growth-team"
    assert value_of(page.text, "members") == "43"
    assert value_of(page.text, "reachable-email") == "40"
    excluded = dict(
        re.findall(r'data-reason="(\w+)"><td>[^<]*</td><td class="num">(\d+)', page.text)
    )
    assert excluded == {"invalid_address": "1", "no_consent": "1", "suppressed": "1"}
    assert "models/segments/segment_loyal.sql" in page.text
    assert "l000000@example.com" in page.text  # the sample of members


def test_an_unknown_segment_is_a_404_page_naming_the_known_ones(site):
    page = site.client("viewer").get("/segments/nope")
    assert page.status_code == 404
    assert "lapsed" in page.text and "loyal" in page.text


def test_deliverability_draws_gmail_lines_and_rates_per_domain(site):
    page = site.client("viewer").get("/deliverability?days=7")
    assert page.status_code == 200
    assert 'data-value="0.001"' in page.text and 'data-value="0.003"' in page.text
    assert "Gmail limit 0.3%" in page.text
    yahoo = re.search(r'data-domain="yahoo.com">(.*?)</tr>', page.text, re.S).group(1)
    assert "0.53%" in yahoo  # 50 complaints / 9,500 delivered over the five days
    assert value_of(page.text, "delivery-rate") == "98.33%"  # 59,000 / 60,000


def test_experiments_chart_intervals_with_a_plain_verdict(site):
    page = site.client("viewer").get("/experiments")
    assert page.status_code == 200
    assert "b is very likely better than a on click (100% chance to beat it)." in page.text
    assert "No clear winner yet: b has a 52% chance to beat a on unsubscribe" in page.text
    assert page.text.count('class="interval"') == 2
    assert "95% credible interval 12.00% to 38.00%" in page.text


def test_experiments_page_has_an_empty_state_before_the_model_exists(site):
    # The app reads the warehouse read-only; the change comes from outside, as a build's would.
    DuckDBWarehouse(site.state.settings.duckdb_file).execute(
        "drop table analytics.experiment_results"
    )
    page = site.client("viewer").get("/experiments")
    assert page.status_code == 200
    assert 'data-testid="no-experiments"' in page.text
    assert "has not been built yet" in page.text


# -- roles -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("viewer", "/activations/new", 403),
        ("viewer", "/approvals", 403),
        ("viewer", "/audit", 403),
        ("marketer", "/activations/new", 200),
        ("marketer", "/approvals", 403),
        ("marketer", "/audit", 403),
        ("admin", "/approvals", 200),
        ("admin", "/audit", 200),
    ],
)
def test_pages_need_their_role(site, role, path, status):
    page = site.client(role).get(path)
    assert page.status_code == status
    if status == 403:
        assert "needs the" in page.text and "role or higher" in page.text


def test_controls_a_role_may_not_use_are_not_shown(site):
    viewer = site.client("viewer").get("/").text
    admin = site.client("admin").get("/").text
    for link in ('href="/activations/new"', 'href="/approvals"', 'href="/audit"'):
        assert link not in viewer
        assert link in admin


def test_a_viewer_cannot_trigger_even_with_a_valid_form(site):
    client = site.client("viewer")
    token = csrf_of(client.get("/").text)
    answer = client.post("/activations", data={**WELCOME_FORM, "csrf_token": token})
    assert answer.status_code == 403


# -- forms -----------------------------------------------------------------------------------


def test_forms_without_this_sessions_token_are_refused(site):
    marketer = site.client("marketer")
    other = site.client("admin")
    foreign = csrf_of(other.get("/").text)
    for data in (WELCOME_FORM, {**WELCOME_FORM, "csrf_token": foreign}):
        answer = marketer.post("/activations", data=data)
        assert answer.status_code == 403
        assert "did not come from this dashboard" in answer.text
    with site.state.sessions() as session:
        from activation.catalog import list_activations

        assert list_activations({"nodes": {}, "exposures": {}}, session) == []


def test_a_bad_form_comes_back_with_the_field_named_and_values_kept(site):
    client = site.client("marketer")
    token = csrf_of(client.get("/activations/new").text)
    answer = client.post(
        "/activations",
        data={**WELCOME_FORM, "subject": "", "name": "Bad Name", "csrf_token": token},
    )
    assert answer.status_code == 422
    errors = dict(re.findall(r'data-error="(\w+)">([^<]*)<', answer.text))
    assert "subject" in errors and "name" in errors
    assert "lowercase letters" in errors["name"]
    assert 'value="shop@example.com"' in answer.text  # what was typed survives


def test_the_form_can_send_at_each_recipients_recommended_hour(site):
    client = site.client("marketer")
    token = csrf_of(client.get("/activations/new").text)
    saved = client.post(
        "/activations",
        data={**WELCOME_FORM, "send_time_recommended": "on", "csrf_token": token},
    )
    assert saved.status_code == 303
    detail = client.get("/activations/loyal_thanks").text
    assert "recommended hour" in detail
    with site.state.sessions() as session:
        from activation.catalog import list_activations

        [saved_definition] = list_activations({"nodes": {}, "exposures": {}}, session)
    assert saved_definition.send_time == "recommended"


def test_preview_renders_the_message_for_a_sample_member(site):
    client = site.client("marketer")
    token = csrf_of(client.get("/activations/new").text)
    answer = client.post("/activations/preview", data={**WELCOME_FORM, "csrf_token": token})
    assert answer.status_code == 200
    preview = answer.json()
    assert preview["subject"] == "Thanks, Ann"
    assert preview["profile_id"] == "l000000" and preview["to"] == "l000000@example.com"
    assert "Hello Ann" in preview["html"] and "/u/" in preview["html"]

    broken = client.post(
        "/activations/preview",
        data={**WELCOME_FORM, "body": "<p>{{ first_name </p>", "csrf_token": token},
    )
    assert broken.status_code == 200 and broken.json()["error"]


# -- the flow: create, dry run, confirm, delivered; held and approved --------------------------


def test_create_dry_run_confirm_and_the_run_delivers(site):
    client = site.client("marketer")
    token = csrf_of(client.get("/activations/new").text)

    saved = client.post("/activations", data={**WELCOME_FORM, "csrf_token": token})

    assert saved.status_code == 303
    dry_run_page = saved.headers["location"]
    pending = client.get(dry_run_page)
    assert 'data-testid="queued"' in pending.text
    assert 'data-testid="confirm"' in pending.text and "hidden" in pending.text
    assert len(carry_out_requests(site.state)) == 1
    planned = client.get(dry_run_page)
    assert 'data-final="true"' in planned.text
    assert re.search(r'data-field="planned">40<', planned.text)
    assert re.search(r'data-field="excluded">3<', planned.text)
    assert site.sink.received == []  # a dry run sends nothing

    confirmed = client.post(
        "/activations/loyal_thanks/trigger", data={"csrf_token": csrf_of(planned.text)}
    )
    assert confirmed.status_code == 303
    carry_out_requests(site.state)
    run = client.get(confirmed.headers["location"])
    assert "badge completed" in run.text
    assert re.search(r'data-field="sent">40<', run.text)
    assert len(site.sink.received) == 40
    assert {m.message["Subject"] for m in site.sink.received} == {"Thanks, Ann"}

    site.state.reads.fresh_for_s = 0  # read the warehouse again, not the cached overview
    assert re.search(
        r"<title>members · \d{4}-\d\d-\d\d: 43</title>", client.get("/segments/loyal").text
    )
    assert re.search(r"<title>Loyal customers · \d\d-\d\d: 43</title>", client.get("/").text)
    progress = client.get(confirmed.headers["location"] + "/progress").json()
    assert (progress["status"], progress["sent"], progress["final"]) == ("completed", 40, True)
    audit = site.client("admin").get("/audit").text
    for action in ("activation.create", "activation.dry_run_requested", "activation.run_requested"):
        assert f'data-action="{action}"' in audit


def test_a_run_over_its_limit_waits_for_an_admin(site):
    marketer = site.client("marketer")
    token = csrf_of(marketer.get("/activations/new").text)
    marketer.post("/activations", data={**WELCOME_FORM, "max_change": "5", "csrf_token": token})
    carry_out_requests(site.state)
    triggered = marketer.post("/activations/loyal_thanks/trigger", data={"csrf_token": token})
    carry_out_requests(site.state)
    run_id = triggered.headers["location"].rsplit("/", 1)[1]
    held = marketer.get(f"/runs/{run_id}").text
    assert "badge awaiting_approval" in held and "max_change" in held
    assert site.sink.received == []

    admin = site.client("admin")
    approvals = admin.get("/approvals").text
    assert f'data-testid="approve-{run_id}"' in approvals
    refused = marketer.post(f"/approvals/{run_id}/approve", data={"csrf_token": token})
    assert refused.status_code == 403

    approved = admin.post(f"/approvals/{run_id}/approve", data={"csrf_token": csrf_of(approvals)})

    assert approved.status_code == 303
    pending = admin.get("/approvals").text
    assert f'data-testid="approval-{run_id}">Approval pending<' in pending
    assert f'data-testid="approve-{run_id}"' not in pending
    assert "badge awaiting_approval" in admin.get(f"/runs/{run_id}").text
    assert site.sink.received == []
    assert len(carry_out_requests(site.state)) == 1  # Dagster carries the approval out
    assert "badge completed" in admin.get(f"/runs/{run_id}").text
    assert len(site.sink.received) == 40
    again = admin.post(f"/approvals/{run_id}/approve", data={"csrf_token": csrf_of(approvals)})
    assert again.status_code == 409 and "only a run awaiting approval" in again.text
    assert 'data-testid="nothing-held"' in admin.get("/approvals").text


def test_unknown_runs_and_activations_are_404_pages(site):
    client = site.client("marketer")
    assert client.get("/runs/nope").status_code == 404
    assert client.get("/runs/nope/progress").status_code == 404
    assert client.get("/activations/nope").status_code == 404
    token = csrf_of(client.get("/").text)
    answer = client.post("/activations/nope/trigger", data={"csrf_token": token})
    assert answer.status_code == 404 and "no activation named" in answer.text


# -- a build holding the warehouse -----------------------------------------------------------


def test_pages_answer_from_the_last_good_data_while_a_build_holds_the_warehouse(site):
    client = site.client("viewer")
    assert value_of(client.get("/").text, "profiles") == "50"
    site.state.reads.fresh_for_s = 0  # every read asks the warehouse again
    with warehouse_held_by_another_process(site.settings.duckdb_file):
        overview = client.get("/")
        never_read = client.get("/deliverability")
    assert overview.status_code == 200
    assert value_of(overview.text, "profiles") == "50"
    assert "showing the last good data, from" in overview.text
    assert never_read.status_code == 503  # nothing to fall back on yet: a page, never a 500
    assert "Warehouse busy" in never_read.text and never_read.headers["retry-after"]
    assert "showing the last good data" not in client.get("/").text


# -- experiments and holdouts from the form ----------------------------------------------------


def test_an_ab_test_with_a_holdout_sends_both_subjects_and_holds_some_back(site):
    client = site.client("marketer")
    token = csrf_of(client.get("/activations/new").text)
    form = {
        **WELCOME_FORM,
        "experiment_id": "thanks_subject",
        "variant_b_subject": "Hey {{ first_name }}",
        "holdout_percent": "20",
        "csrf_token": token,
    }
    saved = client.post("/activations", data=form)
    assert saved.status_code == 303, saved.text
    carry_out_requests(site.state)
    triggered = client.post("/activations/loyal_thanks/trigger", data={"csrf_token": token})
    carry_out_requests(site.state)

    run = client.get(triggered.headers["location"]).text

    assert "badge completed" in run
    held_back = int(re.search(r"<td>holdout</td><td class=\"num\">(\d+)<", run).group(1))
    assert 0 < held_back < 40
    subjects = [m.message["Subject"] for m in site.sink.received]
    assert len(subjects) == 40 - held_back
    assert set(subjects) == {"Thanks, Ann", "Hey Ann"}


def test_an_experiment_with_nothing_to_compare_is_refused_on_its_field(site):
    client = site.client("marketer")
    token = csrf_of(client.get("/activations/new").text)
    answer = client.post(
        "/activations", data={**WELCOME_FORM, "experiment_id": "lonely", "csrf_token": token}
    )
    assert answer.status_code == 422
    errors = dict(re.findall(r'data-error="(\w+)">([^<]*)<', answer.text))
    assert "two or more variants, or a holdout" in errors["experiment_id"]
