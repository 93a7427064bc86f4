"""A tiny stand-in for the portal, served by the local stack at /_local/portal: the page OAuth returns to.

It shows what the portal would: the outcome in the query (clickup=connected | error&reason=...) and the
organisation's connection as the bridge reports it (fetched with a local dev token for `?org=`).
"""

from __future__ import annotations

import html
import json
import threading
import time
from collections.abc import Callable

import httpx
from werkzeug.wrappers import Request, Response


def portal_page(request: Request, api_url: str, token_for: Callable[[str], str]) -> Response:
    org = request.args.get("org", "demo-org")
    outcome = request.args.get("clickup", "")
    reason = request.args.get("reason", "")
    try:
        answer = httpx.get(
            f"{api_url}/api/v1/clickup/connection", timeout=10, headers={"Authorization": f"Bearer {token_for(org)}"}
        )
        connection = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        connection = {"status": "unknown", "error": type(exc).__name__}
    status = str(connection.get("status", "unknown"))
    user = (connection.get("user") or {}).get("username") or ""
    workspaces = ", ".join(w["name"] for w in connection.get("workspaces", []) if w.get("authorized"))
    banner = (
        (
            f"<p id='outcome' class='{html.escape(outcome)}'>ClickUp: {html.escape(outcome)}"
            + (f" ({html.escape(reason)})" if reason else "")
            + "</p>"
        )
        if outcome
        else ""
    )
    body = (
        f"<h1>Portal (local) — organisation {html.escape(org)}</h1>{banner}"
        f"<p>Connection status: <b id='status'>{html.escape(status)}</b></p>"
        f"<p>ClickUp user: <span id='user'>{html.escape(user)}</span></p>"
        f"<p>Workspaces: <span id='workspaces'>{html.escape(workspaces)}</span></p>"
        f"<pre id='raw'>{html.escape(json.dumps(connection, indent=2))}</pre>"
    )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Portal: ClickUp {html.escape(status)}</title>"
        "</head><body style='font-family:sans-serif;max-width:48em;margin:2em auto'>"
        f"{body}</body></html>"
    )
    return Response(page, content_type="text/html")


class PortalReceiver:
    """The portal's webhook endpoint, locally (`POST /_local/portal/events`): keeps what the bridge pushed,
    with its headers, so the demo, tests and benchmarks see what a portal would receive. `fail_next` makes it
    answer 503 a number of times (a portal that is down)."""

    def __init__(self) -> None:
        self.received: list[dict[str, object]] = []
        self.fail_next = 0
        self._lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response("portal down", status=503)
            body = request.get_data()
            self.received.append(
                {
                    "at": time.time(),
                    "body": body.decode("utf-8"),
                    "event_id": request.headers.get("X-Bridge-Event-Id"),
                    "signature": request.headers.get("X-Bridge-Signature"),
                }
            )
        return Response(json.dumps({"ok": True}), status=200, content_type="application/json")

    def listing(self, request: Request) -> Response:
        org = request.args.get("org")
        with self._lock:
            items = [r for r in self.received if not org or json.loads(str(r["body"])).get("org_id") == org]
        return Response(json.dumps({"received": items}), content_type="application/json")
