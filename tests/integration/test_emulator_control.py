"""The emulator's control API: plan limits with a scaled window, reordering, request log, reset and seed."""

from __future__ import annotations

import time

import httpx
import pytest

from bridge.clickup.client import ClickUpClient
from bridge.clickup.errors import RateLimited
from local.emulator.server import EmulatorServer
from tests.conftest import wait_for
from tests.receiver import Receiver


def test_plan_limit_in_a_scaled_window(workspace: dict, clickup: httpx.Client) -> None:
    # Given a "minute" of 1 s and a business plan of 5 requests per window
    clickup.put("/_emulator/limits", json={"window_s": 1.0, "plan_limits": {"business": 5}})
    try:
        headers = {"Authorization": workspace["token"]}
        answers = [clickup.get("/api/v2/user", headers=headers).status_code for _ in range(6)]
        assert answers == [200] * 5 + [429]
        time.sleep(1.1)  # the next window
        assert clickup.get("/api/v2/user", headers=headers).status_code == 200
        # A Business Plus workspace gets 1,000
        clickup.put("/_emulator/limits", json={"team_plans": {workspace["team_id"]: "business_plus"}})
        assert clickup.get("/api/v2/user", headers=headers).headers["X-RateLimit-Limit"] == "1000"
    finally:
        clickup.put(
            "/_emulator/limits",
            json={"window_s": 60.0, "plan_limits": {"business": 100}, "team_plans": {workspace["team_id"]: "business"}},
        )


def test_request_log_counts_requests_and_429s(workspace: dict, clickup: httpx.Client) -> None:
    mark = clickup.get("/_emulator/requests", params={"since": 10**9}).json()["next"]
    clickup.put("/_emulator/limits", json={"token_limits": {workspace["token"]: 1}})
    client = ClickUpClient(workspace["token"])
    client.get_user()
    with pytest.raises(RateLimited):
        client.get_user()
    log = clickup.get("/_emulator/requests", params={"since": mark}).json()["requests"]
    mine = [r for r in log if r["token_id"] == workspace["token_id"]]
    assert [r["status"] for r in mine] == [200, 429] and all(r["path"] == "/api/v2/user" for r in mine)
    assert all(workspace["token"] not in str(r) for r in log)  # the log names tokens by id only


def test_reordered_deliveries(workspace: dict, clickup: httpx.Client) -> None:
    client = ClickUpClient(workspace["token"])
    inbox = workspace["spaces"][0]["lists"][0]["id"]
    with Receiver() as receiver:
        client.create_webhook(workspace["team_id"], receiver.url, ["taskCreated"])
        clickup.put("/_emulator/webhooks/delivery", json={"reorder_ratio": 1.0, "reorder_hold_s": 0.5})
        try:
            first = client.create_task(inbox, {"name": "first"})
            clickup.put("/_emulator/webhooks/delivery", json={"reorder_ratio": 0.0})
            second = client.create_task(inbox, {"name": "second"})
            wait_for(lambda: len(receiver.events("taskCreated")) == 2)
            assert [r.json["task_id"] for r in receiver.events("taskCreated")] == [second.id, first.id]
        finally:
            clickup.put("/_emulator/webhooks/delivery", json={"reorder_ratio": 0.0})


def test_reset_and_seed_return_ids() -> None:
    server = EmulatorServer(port=0, demo=False).start()
    try:
        with httpx.Client(base_url=server.url) as c:
            assert c.get("/api/v2/team", headers={"Authorization": "pk_nope"}).json()["ECODE"] == "OAUTH_019"
            user = c.post("/_emulator/users", json={"username": "A B", "email": "a@b.c"}).json()
            seeded = c.post(
                "/_emulator/seed",
                json={
                    "user_id": user["id"],
                    "workspace": {
                        "name": "W",
                        "spaces": [{"name": "S", "folders": [{"name": "F", "lists": [{"name": "L"}]}]}],
                    },
                },
            ).json()
            assert seeded["spaces"][0]["folders"][0]["lists"][0]["id"].isdigit()
            token = c.post(f"/_emulator/users/{user['id']}/tokens").json()["token"]
            assert token.startswith("pk_")
            assert c.get("/api/v2/team", headers={"Authorization": token}).json()["teams"][0]["name"] == "W"
            c.post("/_emulator/reset")
            assert c.get("/api/v2/team", headers={"Authorization": token}).json()["ECODE"] == "OAUTH_019"
            demo = c.post("/_emulator/reset", json={"demo": True})
            assert demo.status_code == 200 and len(server.emulator.backend.teams) == 2
    finally:
        server.stop()


def test_make_dev_demo_world(stack) -> None:
    demo = stack.emulator.emulator.demo
    assert demo is not None and len(demo["workspaces"]) == 2
    support = demo["workspaces"][0]
    spaces = {s["name"]: s for s in support["spaces"]}
    assert spaces["Old projects"]["archived"] is True
    assert spaces["Customer Success"]["lists"]  # folderless lists
    escalations = spaces["Customer Success"]["folders"][1]["lists"][0]
    assert escalations["statuses"] == ["new", "triage", "waiting on customer", "resolved"]  # custom statuses
    assert demo["redirect_uris"] == [f"{stack.api_url}/clickup/oauth/callback"]
