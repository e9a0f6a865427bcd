"""Read a request body with a size cap, before anything parses it.

Intake routes (ingest batches, provider webhooks) read raw bytes: webhook signatures cover
the exact bytes, and a declared `Content-Length` can be checked before a single byte is
buffered. A body over the cap is refused with 413 and a message that states the limit;
a chunked body is counted as it streams, so a client cannot dodge the cap by not declaring.

The core JSON API's routers use `JsonApiRoute`, whose requests read their body the same way
with `MAX_JSON_BODY_BYTES`, so FastAPI's own body parsing never buffers more than that.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response, status
from fastapi.routing import APIRoute

MAX_JSON_BODY_BYTES = 1024 * 1024
"""The largest body the core JSON API accepts: an activation with its templates fits many
times over; bulk data goes through ingest and imports, which have their own limits."""


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"request body is larger than the limit of {limit} bytes; send smaller batches",
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The body's bytes, or 413 when it is (or declares to be) longer than `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "Content-Length is not a number")
        if int(declared) > limit:
            raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def parse_json(body: bytes) -> Any:
    """The JSON document in `body`, or 400 naming where it stops being JSON."""
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "request body is not UTF-8") from None
    except json.JSONDecodeError as error:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"request body is not valid JSON: {error.msg} at line {error.lineno} "
            f"column {error.colno}",
        ) from None


class _CappedRequest(Request):
    """A request whose `body()` (what FastAPI parses JSON from) stops at the JSON API's cap."""

    _capped_body: bytes

    async def body(self) -> bytes:
        if not hasattr(self, "_capped_body"):
            self._capped_body = await read_body(self, MAX_JSON_BODY_BYTES)
        return self._capped_body


class JsonApiRoute(APIRoute):
    """A route of the core JSON API: its body is capped at `MAX_JSON_BODY_BYTES` (413)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def capped(request: Request) -> Response:
            return await handle(_CappedRequest(request.scope, request.receive))

        return capped
