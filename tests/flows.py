"""The connect flow over HTTP, step by step, as a browser would walk it (without rendering)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from local.stack import LocalStack


def portal_url(stack: LocalStack, org_id: str) -> str:
    return f"{stack.api_url}/_local/portal?org={org_id}"


def start(api: httpx.Client, headers: dict[str, str], return_to: str) -> httpx.Response:
    return api.get("/clickup/oauth/connect", params={"return_to": return_to}, headers=headers)


def consent(
    clickup: httpx.Client, authorize_url: str, decision: str = "authorize", team_ids: list[str] | None = None
) -> str:
    """Load the consent page, submit it; returns the callback URL ClickUp redirects the browser to."""
    page = clickup.get(authorize_url)
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r"<input type='hidden' name='(\w+)' value='([^']*)'>", page.text))
    offered = re.findall(r"name='team_ids' value='(\d+)'", page.text)
    form: dict[str, Any] = {**fields, "decision": decision, "team_ids": offered if team_ids is None else team_ids}
    answer = clickup.post("/api/authorize", data=form)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


def follow_callback(api: httpx.Client, callback_url: str) -> dict[str, list[str]]:
    parsed = urlparse(callback_url)
    answer = api.get(parsed.path, params=parse_qs(parsed.query))
    assert answer.status_code == 302, answer.text
    location = str(answer.headers["location"])
    return {"_location": [location], **parse_qs(urlparse(location).query)}


def connect(
    stack: LocalStack, api: httpx.Client, clickup: httpx.Client, headers: dict[str, str], org_id: str, user_id: int
) -> dict[str, list[str]]:
    clickup.post("/_emulator/login", json={"user_id": user_id})
    started = start(api, headers, portal_url(stack, org_id))
    assert started.status_code == 200, started.text
    return follow_callback(api, consent(clickup, started.json()["authorize_url"]))


def connect_with_token(api: httpx.Client, headers: dict[str, str], token: str) -> None:
    """Connect with a personal token and wait for the first sync to land."""
    from tests.conftest import wait_for

    answer = api.put("/api/v1/clickup/connection/personal-token", headers=headers, json={"token": token})
    assert answer.status_code == 200, answer.text
    wait_for(lambda: api.get("/api/v1/clickup/spaces", headers=headers).json().get("synced_at"), timeout_s=30)


def connected_org(stack: LocalStack, api: httpx.Client, clickup: httpx.Client) -> dict[str, Any]:
    """A fresh organisation connected with a personal token to a seeded workspace of its own (one space, one
    list), customer `cust-1` assigned to that space and list, and one ticket accepted (its task created).

    Returns `org`, `auth(role="admin")` (headers), `team_id`, `space_id`, `list_id`, `ticket`, `token`."""
    import uuid

    org = f"org-{uuid.uuid4().hex[:10]}"

    def auth(role: str = "admin", user: str = "user-1") -> dict[str, str]:
        return {"Authorization": f"Bearer {stack.token(org, user=user, role=role)}"}

    tag = uuid.uuid4().hex[:6]
    user = clickup.post("/_emulator/users", json={"username": f"F {tag}", "email": f"f{tag}@example.com"}).json()
    seeded = clickup.post(
        "/_emulator/seed",
        json={
            "user_id": user["id"],
            "workspace": {"name": f"F {tag}", "spaces": [{"name": "S", "lists": [{"name": "In"}]}]},
        },
    ).json()
    token = clickup.post(f"/_emulator/users/{user['id']}/tokens").json()["token"]
    connect_with_token(api, auth(), token)
    space = seeded["spaces"][0]
    list_id = space["lists"][0]["id"]
    assigned = api.put(
        "/api/v1/customers/cust-1/clickup-space", headers=auth(), json={"space_id": space["id"], "list_id": list_id}
    )
    assert assigned.status_code == 200, assigned.text
    ticket = str(uuid.uuid4())
    body = {"title": "t", "priority": "normal", "customer_id": "cust-1"}
    accepted = api.post(f"/api/v1/tickets/{ticket}/clickup-task", headers=auth(), json=body)
    assert accepted.status_code == 202, accepted.text
    return {
        "org": org,
        "auth": auth,
        "user_id": user["id"],
        "team_id": seeded["team_id"],
        "space_id": space["id"],
        "list_id": list_id,
        "ticket": ticket,
        "token": token,
    }
