"""Every route but health, unsubscribe and signed webhooks wants a token, and the right role.

Routes are enumerated from the app's OpenAPI document (the contract), so a route added
later is covered without touching this file; one that should be public must be added to
`PUBLIC` here, deliberately. The least role a route admits is found by asking it, then held
to the rule: state changes need at least a marketer, tokens, audit and approvals an admin.
"""

import re

from connectors.ops_store.models import TokenRole

PUBLIC = (
    re.compile(r"^/health$"),
    re.compile(r"^/u/"),  # one-click unsubscribe: the link's signature is the credential
    re.compile(r"^/webhooks/"),  # providers sign their requests instead
)
ADMIN_ONLY = re.compile(r"^/api/v1/(tokens|audit|data-subjects?|erasure)|/approve$")
ROLES = (TokenRole.VIEWER, TokenRole.MARKETER, TokenRole.ADMIN)


def concrete(path: str) -> str:
    """A path with its parameters filled in, naming nothing that exists."""
    return re.sub(r"\{(\w+)\}", lambda m: "999999" if m.group(1).endswith("id") else "xx", path)


def guarded_operations(app):
    for path, operations in app.openapi()["paths"].items():
        if any(pattern.search(path) for pattern in PUBLIC):
            continue
        for method in operations:
            yield method.upper(), path


def least_role(core, method, path):
    """The weakest role the route lets past authentication, checking 403s below it."""
    for role in ROLES:
        response = core.client.request(method, concrete(path), headers=core.headers[role.value])
        assert response.status_code != 401, (method, path, response.text)
        if response.status_code != 403:
            return role
        assert "role or higher" in response.json()["detail"], (method, path, response.text)
    raise AssertionError(f"{method} {path} refuses even an admin")


def test_every_guarded_route_refuses_a_missing_or_wrong_token(core):
    operations = list(guarded_operations(core.app))
    for method, path in operations:
        for headers in (
            {},
            {"Authorization": "Bearer tdm_not-a-real-token"},
            {"Authorization": "Basic x"},
        ):
            response = core.client.request(method, concrete(path), headers=headers)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
    assert len(operations) >= 20  # the API core's routes, at least


def test_roles_are_ordered_and_state_changes_need_more_than_a_viewer(core):
    found = {(m, p): least_role(core, m, p) for m, p in guarded_operations(core.app)}
    for (method, path), role in found.items():
        if ADMIN_ONLY.search(path):
            assert role is TokenRole.ADMIN, (method, path, role)
        elif method != "GET":
            assert role is not TokenRole.VIEWER, (method, path)
    assert found[("GET", "/api/v1/segments")] is TokenRole.VIEWER
    assert found[("POST", "/api/v1/activations/{name}/trigger")] is TokenRole.MARKETER
    assert found[("POST", "/api/v1/runs/{run_id}/approve")] is TokenRole.ADMIN


def test_a_revoked_token_is_refused_at_once(core):
    admin = core.headers["admin"]
    created = core.client.post(
        "/api/v1/tokens", json={"name": "ci", "role": "viewer"}, headers=admin
    )
    assert created.status_code == 201
    token = {"Authorization": f"Bearer {created.json()['token']}"}
    assert core.client.get("/api/v1/segments", headers=token).status_code == 200

    revoked = core.client.post(f"/api/v1/tokens/{created.json()['id']}/revoke", headers=admin)

    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert core.client.get("/api/v1/segments", headers=token).status_code == 401
    listed = core.client.get("/api/v1/tokens", headers=admin).json()["data"]
    assert all("token" not in entry and "token_hash" not in entry for entry in listed)
