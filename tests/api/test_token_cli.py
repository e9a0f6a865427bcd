"""`tidemark token create/list/revoke`, as an admin runs them in a terminal."""

import re

from tests.api.cli_runner import tidemark
from tests.api.intake import intake_app


def test_create_list_and_revoke_a_token(tmp_path):
    created = tidemark(tmp_path, "token", "create", "--role", "marketer", "--name", "ana")
    assert created.returncode == 0, created.stdout + created.stderr
    [token] = re.findall(r"^tdm_\S+$", created.stdout, flags=re.MULTILINE)
    [token_id] = re.findall(r"^token (\d+) \(marketer, 'ana'\)", created.stdout, re.MULTILINE)

    app = intake_app(tmp_path)
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.client.get("/api/v1/runs", headers=bearer).status_code == 200
    assert app.client.get("/api/v1/tokens", headers=bearer).status_code == 403

    listed = tidemark(tmp_path, "token", "list")
    assert listed.returncode == 0 and "ana" in listed.stdout and "marketer" in listed.stdout
    assert token not in listed.stdout

    revoked = tidemark(tmp_path, "token", "revoke", token_id)
    assert revoked.returncode == 0, revoked.stdout
    assert app.client.get("/api/v1/runs", headers=bearer).status_code == 401
    audit = app.client.get("/api/v1/audit", headers=app.headers["admin"]).json()["data"]
    assert [e["action"] for e in audit if e["actor"] == "cli"] == ["token.revoke", "token.create"]


def test_bad_role_and_unknown_id_are_clear_errors(tmp_path):
    bad = tidemark(tmp_path, "token", "create", "--role", "root", "--name", "x")
    assert bad.returncode == 1 and "expected one of viewer, marketer, admin" in bad.stdout
    missing = tidemark(tmp_path, "token", "revoke", "42")
    assert missing.returncode == 1 and "no API token with id 42" in missing.stdout
    assert "Traceback" not in bad.stdout + bad.stderr + missing.stdout + missing.stderr
