"""`make demo`: walks the bridge's main job end to end against a running `make dev`, printing each step.

It grows with each capability; steps whose capability has not landed yet say so.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from local.idp import LocalIdentityProvider


def step(n: int, title: str) -> None:
    print(f"\n== {n}. {title}")


def show(data: Any) -> None:
    print(json.dumps(data, indent=2)[:2000])


def main() -> int:
    API = f"http://127.0.0.1:{os.environ.get('BRIDGE_API_PORT', '8000')}"
    CLICKUP = f"http://127.0.0.1:{os.environ.get('CLICKUP_EMULATOR_PORT', '8010')}"
    ORG = os.environ.get("DEMO_ORG", "demo-org")
    api, clickup = httpx.Client(base_url=API, timeout=30), httpx.Client(base_url=CLICKUP, timeout=30)
    try:
        api.get("/health")
    except httpx.TransportError:
        print(f"The local stack is not running at {API}: start `make dev` in another terminal first.")
        return 1
    token = LocalIdentityProvider().mint(ORG, user="demo-admin", role="admin")
    auth = {"Authorization": f"Bearer {token}"}

    step(1, "The bridge is up")
    show(api.get("/health").json())

    step(2, f"An admin of organisation '{ORG}' starts connecting ClickUp")
    return_to = f"{API}/_local/portal?org={ORG}"
    started = api.get("/clickup/oauth/connect", params={"return_to": return_to}, headers=auth)
    started.raise_for_status()
    authorize_url = started.json()["authorize_url"]
    print(f"authorize_url: {authorize_url}")

    step(3, "ClickUp's consent page (the emulator): the user's workspaces")
    page = clickup.get(authorize_url).text
    fields = dict(re.findall(r"<input type='hidden' name='(\w+)' value='([^']*)'>", page))
    teams = re.findall(r"name='team_ids' value='(\d+)' checked> ([^<]+)</label>", page)
    for team_id, name in teams:
        print(f"  [x] {name} ({team_id})")
    print("Authorize...")
    consent = clickup.post(
        "/api/authorize", data={**fields, "decision": "authorize", "team_ids": [t for t, _ in teams]}
    )
    callback = consent.headers["location"]
    print(f"ClickUp redirects the browser to: {callback.split('?')[0]}?code=…&state=…")

    step(4, "Our callback exchanges the code, stores the token (KMS envelope), registers webhooks")
    parsed = urlparse(callback)
    back = api.get(parsed.path, params=parse_qs(parsed.query))
    print(f"{back.status_code} → {back.headers.get('location')}")

    step(5, "The portal reads the connection (no secret in it)")
    show(api.get("/api/v1/clickup/connection", headers=auth).json())

    step(6, "The portal tests the connection now")
    show(api.post("/api/v1/clickup/connection/test", headers=auth).json())

    for n, (what, issue) in enumerate(
        (
            ("sync the hierarchy and assign a customer", 6),
            ("create a task from a ticket", 7),
            ("change it in ClickUp and see the portal event", 8),
        ),
        start=7,
    ):
        step(n, what)
        print(f"(arrives with issue {issue})")
    print(f"\nOpen {return_to} to see the portal's view.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
