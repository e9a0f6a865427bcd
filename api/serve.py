"""Serve the API and dashboards with uvicorn over the configured warehouse and ops store.

One process, a thread pool for the (blocking) handlers. Access logs carry method, path and
status only: tokens travel in headers or cookies, which are never logged.
"""

from __future__ import annotations

import uvicorn

from api.app import create_app
from connectors.settings import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def serve(settings: Settings, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Run until interrupted (Ctrl-C or SIGTERM)."""
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
