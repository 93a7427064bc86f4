"""The local stack as benchmarks start it: ephemeral ports, a throwaway state directory."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any


def start_stack(**overrides: Any) -> Any:
    from local.stack import LocalStack, StackConfig

    config = StackConfig(api_port=0, emulator_port=0, aws_port=0, state_dir=Path(tempfile.mkdtemp()), **overrides)
    return LocalStack(config).start()


def connected_org(stack: Any, name: str, plan: str, statuses: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A ClickUp user with one workspace (a space with one list), connected by personal token to a fresh
    organisation, synced, with customer `c-1` assigned to that list: what a benchmark measures from."""
    import time
    import uuid

    import httpx

    api = httpx.Client(base_url=stack.api_url, timeout=60)
    clickup = httpx.Client(base_url=stack.emulator.url, timeout=60)
    org_id = f"bench-{name}-{uuid.uuid4().hex[:6]}"
    auth = {"Authorization": f"Bearer {stack.token(org_id)}"}
    user = clickup.post("/_emulator/users", json={"username": name, "email": f"{name}@bench.example"}).json()
    inbox: dict[str, Any] = {"name": "Inbox", **({"statuses": statuses} if statuses else {})}
    seeded = clickup.post(
        "/_emulator/seed",
        json={
            "user_id": user["id"],
            "workspace": {"name": "WS", "plan": plan, "spaces": [{"name": "Support", "lists": [inbox]}]},
        },
    ).json()
    token = clickup.post(f"/_emulator/users/{user['id']}/tokens").json()["token"]
    api.put("/api/v1/clickup/connection/personal-token", headers=auth, json={"token": token}).raise_for_status()
    deadline = time.time() + 60
    while not api.get("/api/v1/clickup/spaces", headers=auth).json().get("synced_at"):
        if time.time() > deadline:
            raise RuntimeError("the hierarchy never synced")
        time.sleep(0.1)
    space = seeded["spaces"][0]
    api.put(
        "/api/v1/customers/c-1/clickup-space",
        headers=auth,
        json={"space_id": space["id"], "list_id": space["lists"][0]["id"]},
    ).raise_for_status()
    return {"api": api, "clickup": clickup, "org_id": org_id, "auth": auth, "user": user, "seeded": seeded}
