"""The core JSON API refuses a body over its limit with 413 before parsing it, whether the
client declares its length or streams it chunked; bodies under the limit work as before."""

import json

import pytest

from api.request_body import MAX_JSON_BODY_BYTES
from tests.api.intake import intake_app

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def api(tmp_path):
    return intake_app(tmp_path / "home")


def oversized_token_request() -> bytes:
    return json.dumps({"name": "x" * (MAX_JSON_BODY_BYTES + 1), "role": "viewer"}).encode()


def token_names(api):
    listed = api.client.get("/api/v1/tokens", headers=api.headers["admin"]).json()
    return sorted(token["name"] for token in listed["data"])


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/api/v1/tokens", "admin"),
        ("/api/v1/activations", "marketer"),
        ("/api/v1/activations/welcome/trigger", "marketer"),
        ("/api/v1/activations/welcome/preview", "marketer"),
    ],
)
def test_a_declared_oversized_body_is_refused_with_the_limit(api, path, role):
    answer = api.client.post(
        path, content=oversized_token_request(), headers={**api.headers[role], **JSON}
    )

    assert answer.status_code == 413, answer.text
    assert answer.json()["detail"] == (
        f"request body is larger than the limit of {MAX_JSON_BODY_BYTES} bytes; "
        "send smaller batches"
    )


def test_a_chunked_oversized_body_is_counted_as_it_streams(api):
    def chunks():
        yield b'{"role": "viewer", "name": "'
        for _ in range(MAX_JSON_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    answer = api.client.post(
        "/api/v1/tokens", content=chunks(), headers={**api.headers["admin"], **JSON}
    )

    assert answer.status_code == 413
    assert f"limit of {MAX_JSON_BODY_BYTES} bytes" in answer.json()["detail"]
    assert token_names(api) == ["test-admin", "test-marketer", "test-viewer"]


def test_a_body_under_the_limit_is_parsed_as_before(api):
    name = "n" * 200
    answer = api.client.post(
        "/api/v1/tokens", json={"name": name, "role": "viewer"}, headers=api.headers["admin"]
    )

    assert answer.status_code == 201, answer.text
    assert name in token_names(api)
    invalid = api.client.post("/api/v1/tokens", json={"role": "root"}, headers=api.headers["admin"])
    assert invalid.status_code == 422
