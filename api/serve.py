"""Serve the API and dashboards with uvicorn over the configured warehouse and ops store.

One process, a thread pool for the (blocking) handlers. Access logs carry method, path and
status only: tokens travel in headers or cookies, which are never logged.
"""

from __future__ import annotations

import os
import sys

import uvicorn

from api.app import create_app
from connectors.settings import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def serve(
    settings: Settings, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, workers: int = 1
) -> None:
    """Run until interrupted (Ctrl-C or SIGTERM).

    With several workers, each is its own process (Python's threads share one core for
    Python code) and builds its app from the environment's settings, as `settings` were.
    """
    if workers > 1:
        # uvicorn's own entry point: its workers die silently when spawned from `-m api.cli`.
        command = [
            sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
            "--host", host, "--port", str(port), "--workers", str(workers),
        ]  # fmt: skip
        os.execv(sys.executable, command)  # noqa: S606 - our own interpreter, fixed arguments
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
