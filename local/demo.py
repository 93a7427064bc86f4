"""`make demo`: walks the bridge's main job end to end against a running `make dev`, printing each step.

It grows with each capability; steps whose capability has not landed yet say so.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import uuid
from collections.abc import Callable
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
    console = f"{API}/console/"
    print(f"The reference console: {console}")
    print(f"  sign in with the token of: .venv/bin/clickup-bridge dev-token --org {ORG} --user demo-admin --role admin")
    token = LocalIdentityProvider().mint(ORG, user="demo-admin", role="admin")
    auth = {"Authorization": f"Bearer {token}"}

    step(1, "The bridge is up")
    show(api.get("/health").json())
    return_to = f"{API}/_local/portal?org={ORG}"
    _connect(api, clickup, auth, ORG, return_to)
    tree = _read_hierarchy(api, auth)

    step(8, "Assign customer 'cust-acme' to the first space and its first folderless list")
    first = tree["spaces"][0]
    body = {"space_id": first["id"], **({"list_id": first["lists"][0]["id"]} if first["lists"] else {})}
    show(api.put("/api/v1/customers/cust-acme/clickup-space", headers=auth, json=body).json())

    ticket_id = str(uuid.uuid4())
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    _create_task(api, auth, ticket_id, url)
    link = _change_ticket(api, auth, url)
    _change_in_clickup(api, clickup, auth, tree, link, url)
    print(f"\nOpen {return_to} to see the portal's view, or the console at {console} (ticket {ticket_id}).")
    return 0


def _poll(
    read: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool], tries: int, pause_s: float
) -> dict[str, Any]:
    """Read until `done` says so, at most `tries` times `pause_s` seconds apart; the last reading."""
    value: dict[str, Any] = {}
    for _ in range(tries):
        value = read()
        if done(value):
            break
        time.sleep(pause_s)
    return value


def _connect(api: httpx.Client, clickup: httpx.Client, auth: dict[str, str], org: str, return_to: str) -> None:
    """Steps 2 to 6: OAuth through the emulator's consent page, then the connection as the portal reads it."""
    step(2, f"An admin of organisation '{org}' starts connecting ClickUp")
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


def _read_hierarchy(api: httpx.Client, auth: dict[str, str]) -> dict[str, Any]:
    """Step 7: the hierarchy the first sync stored, printed; the tree as the API answered it."""
    step(
        7,
        "The first space sync ran after connect (1 + 2S requests, or 2 + 4S + F where ClickUp reads archived=true "
        "as archived items only): the hierarchy, from our store",
    )
    tree = _poll(
        lambda: api.get("/api/v1/clickup/spaces", headers=auth).json(), lambda t: bool(t.get("synced_at")), 60, 0.5
    )
    for space in tree.get("spaces", []):
        print(f"  space {space['name']} ({space['id']})")
        for folder in space["folders"]:
            print(f"    folder {folder['name']}: " + ", ".join(x["name"] for x in folder["lists"]))
        if space["lists"]:
            print("    folderless: " + ", ".join(x["name"] for x in space["lists"]))
    return tree


def _create_task(api: httpx.Client, auth: dict[str, str], ticket_id: str, url: str) -> None:
    """Step 9: a ticket of 'cust-acme' becomes a task, once, even when the portal repeats its POST."""
    step(9, "The portal turns a ticket of 'cust-acme' into a ClickUp task (queued, then created exactly once)")
    ticket = {
        "title": "Invoice PDF is blank",
        "description": "The customer gets an empty PDF since Monday.",
        "priority": "high",
        "customer_id": "cust-acme",
        "ticket_url": f"https://portal.example.com/tickets/{ticket_id}",
        "requester": {"name": "Ann Customer", "email": "ann@customer.example"},
        "due_date": time.strftime("%Y-%m-%d", time.gmtime(time.time() + 3 * 86400)),
        "tags": ["billing"],
    }
    accepted = api.post(url, headers=auth, json=ticket)
    print(f"POST {url} → {accepted.status_code} {accepted.json()['state']}")
    link = _poll(lambda: api.get(url, headers=auth).json(), lambda x: x.get("state") in ("created", "failed"), 60, 0.25)
    show(link)
    again = api.post(url, headers=auth, json=ticket)
    print(f"POST again (a retrying portal) → {again.status_code}: the same task, no duplicate")


def _change_ticket(api: httpx.Client, auth: dict[str, str], url: str) -> dict[str, Any]:
    """Step 10: the portal's change and comment, applied in order; the link after them."""
    step(10, "The portal changes the ticket: priority urgent, a comment (applied to the task in order)")
    api.patch(url, headers=auth, json={"priority": "urgent"}).raise_for_status()
    api.post(f"{url}/comments", headers=auth, json={"text": "Escalated by the support lead."}).raise_for_status()
    link = _poll(
        lambda: api.get(url, headers=auth).json(),
        lambda x: x.get("pending_changes") == 0 and x.get("priority") == "urgent",
        60,
        0.25,
    )
    print(f"task {link.get('task_id')}: priority {link.get('priority')}, pending changes {link.get('pending_changes')}")
    return link


def _change_in_clickup(
    api: httpx.Client,
    clickup: httpx.Client,
    auth: dict[str, str],
    tree: dict[str, Any],
    link: dict[str, Any],
    url: str,
) -> None:
    """Step 11: a ClickUp user's status change comes back by webhook to the portal's feed and the link."""
    step(11, "A ClickUp user changes the task; the signed webhook comes back and the portal gets the event")
    task_id = link.get("task_id")
    cursor = api.get("/api/v1/clickup/events", headers=auth, params={"limit": 500}).json().get("cursor")
    lists = [lst for sp in tree["spaces"] for lst in sp["lists"] + [x for f in sp["folders"] for x in f["lists"]]]
    statuses = next((lst.get("statuses") or [] for lst in lists if lst["id"] == link.get("list_id")), [])
    names = [st["status"] if isinstance(st, dict) else st for st in statuses]
    wanted = next((name for name in names if name != link.get("status")), "in progress")
    # the emulator acts as the user logged in at the consent page: the demo ClickUp user
    changed = clickup.post("/_emulator/act", json={"action": "set_status", "task_id": task_id, "status": wanted})
    print(f"ClickUp: the demo user sets the status of {task_id} to '{wanted}' ({changed.status_code})")

    def status_events() -> dict[str, Any]:
        feed = api.get("/api/v1/clickup/events", headers=auth, params={"after": cursor} if cursor else {}).json()
        seen = [e for e in feed["events"] if e["type"] == "clickup.task.status_changed" and e.get("task_id") == task_id]
        return {"seen": seen}

    seen = _poll(status_events, lambda x: bool(x["seen"]), 80, 0.25)["seen"]
    show(seen[0] if seen else {"error": "no status event reached the feed"})
    link = api.get(url, headers=auth).json()
    print(f"the ticket's link now says status '{link.get('status')}'")
    history = api.get(f"{url}/history", headers=auth).json()["entries"]
    print("history: " + ", ".join(f"{e['action']} by {e['actor']}" for e in history))


if __name__ == "__main__":
    sys.exit(main())
