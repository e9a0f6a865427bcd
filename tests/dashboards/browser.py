"""Headless Chromium and a live server for the dashboards' browser tests.

Chromium is Debian's (`/usr/bin/chromium`), never a Playwright download. Without it the
tests skip with the reason — unless `TIDEMARK_REQUIRE_BROWSER` is set (CI sets it), when a
missing browser fails them. The app is served by uvicorn on a free loopback port in a
background thread, as `tidemark serve` serves it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from connectors.settings import REPO_ROOT
from tests.connectors.destinations.servers.ports import free_port

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]
STARTUP_TIMEOUT_S = 20.0


def require_chromium() -> None:
    """Skip (or, when CI requires the browser, fail) without Debian's Chromium."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is not installed (apt-get install chromium)"
    if os.environ.get("TIDEMARK_REQUIRE_BROWSER"):
        pytest.fail(f"TIDEMARK_REQUIRE_BROWSER is set but {reason}")
    pytest.skip(reason)


@contextmanager
def serve(app: object) -> Iterator[str]:
    """Serve `app` on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="dashboards-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:  # uvicorn sets this once it listens
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def screenshot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
