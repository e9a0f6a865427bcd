"""Bad requests get a 4xx that names the field; secrets never leave in a response or a log."""

import json
import logging

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt")]

GOOD = {
    "name": "checked",
    "segment": "high_value",
    "destination": "demo_smtp",
    "channel": "email",
    "message": {"subject": "Hi", "from_address": "shop@example.com", "html": "<p>hi</p>"},
}


def post(core, path, headers=None, **kwargs):
    return core.client.post(path, headers={**core.headers["admin"], **(headers or {})}, **kwargs)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD, "colour": "red"}, "body.colour"),
        ({**GOOD, "message": {**GOOD["message"], "bcc": "x@y.z"}}, "bcc"),
        ({**GOOD, "limits": {"max_change": "lots"}}, "body.limits.max_change"),
        ({**GOOD, "name": "Not A Name"}, "body.name"),
        ({k: v for k, v in GOOD.items() if k != "segment"}, "body.segment"),
        ({**GOOD, "channel": "pigeon"}, "body.channel"),
        ({**GOOD, "schedule": "every day"}, "body.schedule"),
    ],
)
def test_invalid_activation_bodies_are_422_naming_the_field(core, body, field):
    response = post(core, "/api/v1/activations", json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["message"]


def test_references_that_do_not_exist_are_named(core):
    unknown = post(core, "/api/v1/activations", json={**GOOD, "segment": "nobody"})
    assert unknown.status_code == 422 and "unknown segment 'nobody'" in unknown.json()["detail"]
    nowhere = post(core, "/api/v1/activations", json={**GOOD, "destination": "fax"})
    assert nowhere.status_code == 422 and "unknown destination 'fax'" in nowhere.json()["detail"]
    assert "demo_smtp" in nowhere.json()["detail"]
    declared = post(core, "/api/v1/activations", json={**GOOD, "name": "welcome_new_subscribers"})
    assert declared.status_code == 409 and "declared in dbt" in declared.json()["detail"]
    missing = core.client.get("/api/v1/activations/nope_nope", headers=core.headers["viewer"])
    assert missing.status_code == 404 and "welcome_new_subscribers" in missing.json()["detail"]


def test_malformed_json_wrong_types_and_oversized_values_are_4xx(core):
    broken = post(
        core,
        "/api/v1/activations",
        content=b'{"name": "x",',
        headers={"content-type": "application/json"},
    )
    assert broken.status_code == 422 and "JSON" in broken.json()["message"]
    not_an_object = post(core, "/api/v1/tokens", json=["viewer"])
    assert not_an_object.status_code == 422 and "body" in not_an_object.json()["message"]
    huge_name = post(core, "/api/v1/tokens", json={"name": "n" * 5000, "role": "viewer"})
    assert huge_name.status_code == 422 and "body.name" in huge_name.json()["message"]
    for blank in (" ", "\x1f\t"):  # U+001F is blank to str.strip(), not to a regex \\S
        blank_name = post(core, "/api/v1/tokens", json={"name": blank, "role": "viewer"})
        assert blank_name.status_code == 422 and "body.name" in blank_name.json()["message"]
    bad_role = post(core, "/api/v1/tokens", json={"name": "n", "role": "root"})
    assert bad_role.status_code == 422 and "body.role" in bad_role.json()["message"]
    bad_limit = core.client.get("/api/v1/runs?limit=0", headers=core.headers["viewer"])
    assert bad_limit.status_code == 422 and "query.limit" in bad_limit.json()["message"]
    long_key = post(
        core, "/api/v1/activations/welcome_new_subscribers/trigger", json={"request_id": "k" * 101}
    )
    assert long_key.status_code == 422 and "body.request_id" in long_key.json()["message"]


def test_secrets_never_appear_in_responses_or_logs(core, caplog, monkeypatch):
    smtp_password = "smtp-password-never-shown-7731"
    monkeypatch.setenv(
        "TIDEMARK_DESTINATION_SECRETS", json.dumps({"demo_smtp": {"password": smtp_password}})
    )
    caplog.set_level(logging.DEBUG)
    from tests.api.intake import intake_app

    app = intake_app(core.settings.home)
    admin = app.headers["admin"]
    created = app.client.post(
        "/api/v1/tokens", json={"name": "ci", "role": "viewer"}, headers=admin
    )
    token = created.json()["token"]
    bodies = [
        app.client.get(path, headers=admin).text
        for path in (
            "/api/v1/tokens",
            "/api/v1/audit",
            "/api/v1/activations",
            "/api/v1/activations/welcome_new_subscribers",
            "/api/v1/overview",
            "/api/v1/runs",
            "/openapi.json",
        )
    ]
    bodies.append(
        app.client.post(
            "/api/v1/activations/welcome_new_subscribers/preview", json={}, headers=admin
        ).text
    )
    everything = "\n".join(bodies) + caplog.text
    for secret in (smtp_password, token, admin["Authorization"].split()[1]):
        assert secret not in everything
    assert "token:ci" not in caplog.text or token not in caplog.text
