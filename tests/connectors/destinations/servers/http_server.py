"""A threaded stdlib HTTP server whose answers come from an app function.

The app receives a `Request` (with its arrival time) and returns a `Reply`. A reply can be
held until an event is set (the client's read timeout fires while the server has already
acted on the request) or can drop the connection without answering.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.connectors.destinations.servers.ports import free_port

HOLD_LIMIT_S = 10.0  # a held answer is released at the latest after this (or at stop)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lowercased
    body: bytes
    arrived_at: float  # time.monotonic()

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hold: threading.Event | None = None
    drop: bool = False

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        return cls(
            status,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )

    def held(self) -> Reply:
        """This reply, sent only once its `hold` event is set (at the latest when the server
        stops): the server has acted on the request, the client waits for an answer."""
        self.hold = threading.Event()
        return self


App = Callable[[Request], Reply]


class HttpTestServer:
    """Serves `app` on 127.0.0.1 at a free port, in daemon threads."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.holds: list[threading.Event] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HttpTestServer:
        self._thread.start()
        return self

    def release_all(self) -> None:
        for hold in self.holds:
            hold.set()

    def stop(self) -> None:
        self.release_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler_for(owner: HttpTestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet test output

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query)),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
                arrived_at=time.monotonic(),
            )
            reply = owner.app(request)
            if reply.hold is not None:
                owner.holds.append(reply.hold)
                reply.hold.wait(HOLD_LIMIT_S)
            if reply.drop:
                self.close_connection = True
                return
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test): nothing to answer

    return Handler
