"""Many callers at once: verifying tokens never fails a request on the ops store's write lock."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from connectors.ops_store import TokenRole, create_token, list_tokens
from connectors.settings import Settings

CALLERS = 8


def test_concurrent_first_uses_of_many_tokens_all_succeed_and_are_noted(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path))
    sessions = app.state.tidemark.sessions
    with sessions.begin() as session:
        tokens = [
            create_token(session, name=f"caller-{n}", role=TokenRole.ADMIN).plaintext
            for n in range(CALLERS)
        ]
    start = threading.Barrier(CALLERS)

    def call(token: str) -> list[int]:
        with TestClient(app) as client:
            start.wait()
            headers = {"Authorization": f"Bearer {token}"}
            return [client.get("/api/v1/tokens", headers=headers).status_code for _ in range(3)]

    with ThreadPoolExecutor(CALLERS) as pool:
        statuses = [code for codes in pool.map(call, tokens) for code in codes]

    assert statuses == [200] * (CALLERS * 3)
    with sessions() as session:
        assert all(token.last_used_at is not None for token in list_tokens(session))
