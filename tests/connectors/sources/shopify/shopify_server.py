"""A local Shopify Admin REST API on a real socket that misbehaves on request.

It answers `GET /admin/api/<version>/<resource>.json` like Shopify: the access token in
`X-Shopify-Access-Token`, `updated_at_min` and `order=updated_at asc` on the first request,
`limit`, and cursor pagination through `Link: <…page_info=…>; rel="next"` (plus
`rel="previous"` after the first page), where the page_info token carries the filter. Orders
are listed only with `status=any` (Shopify's default lists open orders only).

Misbehaviour: `faults` is a queue of replies served instead of the next answers (429 with
Retry-After, 5xx, a dropped connection); `page_edits[(resource, page)]` changes the records of
one page before they are served (a changed or missing field).
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from tests.connectors.destinations.servers.http_server import HttpTestServer, Reply, Request

API_VERSION = "2024-10"
THROTTLED = {
    "errors": "Exceeded 2 calls per second for api client. "
    "Reduce request rates to resume uninterrupted service."
}

Records = list[dict[str, Any]]


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


class ShopifyServer:
    def __init__(self, token: str, data: dict[str, Records]) -> None:
        self.token = token
        self.data = data
        self.faults: list[Reply] = []
        self.page_edits: dict[tuple[str, int], Callable[[Records], Records]] = {}
        self.requests: list[Request] = []
        self.http = HttpTestServer(self._app)

    @property
    def api_url(self) -> str:
        return f"{self.http.url}/admin/api/{API_VERSION}"

    def throttle(self, times: int = 1, retry_after: str = "2.0") -> None:
        for _ in range(times):
            self.faults.append(Reply.json(429, THROTTLED, {"Retry-After": retry_after}))

    def fail(self, status: int, times: int = 1) -> None:
        for _ in range(times):
            self.faults.append(Reply.json(status, {"errors": "Internal Server Error"}))

    def _app(self, request: Request) -> Reply:
        self.requests.append(request)
        if request.headers.get("x-shopify-access-token") != self.token:
            return Reply.json(401, {"errors": "[API] Invalid API key or access token"})
        if self.faults:
            return self.faults.pop(0)
        prefix = f"/admin/api/{API_VERSION}/"
        if not request.path.startswith(prefix) or not request.path.endswith(".json"):
            return Reply.json(404, {"errors": "Not Found"})
        resource = request.path[len(prefix) : -len(".json")]
        if resource not in self.data:
            return Reply.json(404, {"errors": "Not Found"})
        return self._list(request, resource)

    def _list(self, request: Request, resource: str) -> Reply:
        query = request.query
        limit = int(query.get("limit", "50"))
        if "page_info" in query:
            if set(query) - {"page_info", "limit", "fields"}:
                return Reply.json(400, {"errors": {"page_info": ["Invalid value."]}})
            state = json.loads(base64.urlsafe_b64decode(query["page_info"]))
        else:
            if query.get("order") != "updated_at asc":
                return Reply.json(400, {"errors": "this server wants order=updated_at asc"})
            state = {
                "min": query.get("updated_at_min"),
                "any": query.get("status") == "any",
                "offset": 0,
            }
        records = self._matching(resource, state)
        offset = state["offset"]
        page = copy.deepcopy(records[offset : offset + limit])
        edit = self.page_edits.get((resource, offset // limit + 1))
        if edit is not None:
            page = edit(page)
        links = []
        if offset > 0:
            links.append(self._link(request, resource, {**state, "offset": 0}, limit, "previous"))
        if offset + limit < len(records):
            after = {**state, "offset": offset + limit}
            links.append(self._link(request, resource, after, limit, "next"))
        headers = {"Link": ", ".join(links)} if links else {}
        return Reply.json(200, {resource: page}, headers)

    def _matching(self, resource: str, state: dict[str, Any]) -> Records:
        records = self.data[resource]
        if resource == "orders" and not state["any"]:
            records = [r for r in records if not r.get("cancelled_at")]
        if state["min"]:
            floor = _moment(state["min"])
            records = [r for r in records if _moment(r["updated_at"]) >= floor]
        return sorted(records, key=lambda r: (_moment(r["updated_at"]), r["id"]))

    def _link(
        self, request: Request, resource: str, state: dict[str, Any], limit: int, rel: str
    ) -> str:
        token = base64.urlsafe_b64encode(json.dumps(state).encode()).decode()
        query = urlencode({"limit": limit, "page_info": token})
        host = request.headers.get("host", "127.0.0.1")
        return f'<http://{host}/admin/api/{API_VERSION}/{resource}.json?{query}>; rel="{rel}"'
