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


def _names(answer: httpx.Response, key: str) -> list[str]:
    assert answer.status_code == 200, answer.text
    return sorted(item["name"] for item in answer.json()[key])


@pytest.mark.parametrize("reading", ["archived_only", "all"])
def test_archived_reading_selects_what_archived_true_answers(reading: str) -> None:
    # Constructed with the reading; the hierarchy reads answer archived=true and archived=false accordingly, the
    # lists a folder embeds included; `archived=false` (or none) is always the active items only.
    server = EmulatorServer(port=0, demo=False, archived_reading=reading).start()
    try:
        with httpx.Client(base_url=server.url) as c:
            user = c.post("/_emulator/users", json={"username": "A B", "email": "a@b.c"}).json()
            spec = {
                "name": "W",
                "spaces": [
                    {
                        "name": "S",
                        "folders": [
                            {"name": "F", "lists": [{"name": "L"}, {"name": "L archived", "archived": True}]},
                            {"name": "F archived", "archived": True, "lists": [{"name": "L2"}]},
                        ],
                        "lists": [{"name": "loose"}, {"name": "loose archived", "archived": True}],
                    },
                    {"name": "S archived", "archived": True},
                ],
            }
            seeded = c.post("/_emulator/seed", json={"user_id": user["id"], "workspace": spec}).json()
            auth = {"Authorization": c.post(f"/_emulator/users/{user['id']}/tokens").json()["token"]}
            team, space = seeded["team_id"], seeded["spaces"][0]
            folder = space["folders"][0]["id"]
            assert c.get("/_emulator/settings").json()["archived_reading"] == reading

            def read(path: str, key: str, archived: str | None) -> list[str]:
                params = {} if archived is None else {"archived": archived}
                return _names(c.get(f"/api/v2{path}", headers=auth, params=params), key)

            everything = reading == "all"
            assert read(f"/team/{team}/space", "spaces", "true") == (
                ["S", "S archived"] if everything else ["S archived"]
            )
            assert read(f"/team/{team}/space", "spaces", "false") == ["S"]
            assert read(f"/team/{team}/space", "spaces", None) == ["S"]
            assert read(f"/space/{space['id']}/folder", "folders", "true") == (
                ["F", "F archived"] if everything else ["F archived"]
            )
            assert read(f"/space/{space['id']}/folder", "folders", "false") == ["F"]
            assert read(f"/space/{space['id']}/list", "lists", "true") == (
                ["loose", "loose archived"] if everything else ["loose archived"]
            )
            assert read(f"/space/{space['id']}/list", "lists", "false") == ["loose"]
            assert read(f"/folder/{folder}/list", "lists", "true") == (
                ["L", "L archived"] if everything else ["L archived"]
            )
            assert read(f"/folder/{folder}/list", "lists", "false") == ["L"]
            embedded = {
                f["name"]: sorted(x["name"] for x in f["lists"])
                for f in c.get(f"/api/v2/space/{space['id']}/folder", headers=auth, params={"archived": "true"}).json()[
                    "folders"
                ]
            }
            assert embedded == ({"F": ["L", "L archived"], "F archived": ["L2"]} if everything else {"F archived": []})

            # Get Tasks' `archived` is the same flag
            inbox = space["lists"][0]["id"]
            for name, archived in (("active task", False), ("archived task", True)):
                task = c.post(f"/api/v2/list/{inbox}/task", headers=auth, json={"name": name}).json()
                c.put(f"/api/v2/task/{task['id']}", headers=auth, json={"archived": archived})
            assert read(f"/list/{inbox}/task", "tasks", "true") == (
                ["active task", "archived task"] if everything else ["archived task"]
            )
            assert read(f"/list/{inbox}/task", "tasks", None) == ["active task"]

            # the control API flips it (tests run the product under each), refuses what it does not know, and a
            # reset comes back to the constructed reading
            other = "archived_only" if everything else "all"
            assert c.put("/_emulator/settings", json={"archived_reading": other}).json()["archived_reading"] == other
            assert c.put("/_emulator/settings", json={"archived_reading": "both"}).status_code == 400
            assert c.put("/_emulator/settings", json={"unknown": 1}).status_code == 400
            assert read(f"/space/{space['id']}/list", "lists", "true") == (
                ["loose archived"] if everything else ["loose", "loose archived"]
            )
            c.post("/_emulator/reset")
            assert c.get("/_emulator/settings").json()["archived_reading"] == reading
    finally:
        server.stop()


def test_an_unknown_archived_reading_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="archived_reading"):
        EmulatorServer(port=0, demo=False, archived_reading="some")


def test_unknown_ids_get_either_answer_clickup_is_seen_to_give() -> None:
    # n8n saw 401 OAUTH_023 for an unknown id; a recorded Get Space answered 404 PROJ_006 (FACTS.md §5)
    server = EmulatorServer(port=0, demo=False).start()
    try:
        with httpx.Client(base_url=server.url) as c:
            user = c.post("/_emulator/users", json={"username": "A B", "email": "a@b.c"}).json()
            c.post("/_emulator/seed", json={"user_id": user["id"], "workspace": {"name": "W", "spaces": []}})
            auth = {"Authorization": c.post(f"/_emulator/users/{user['id']}/tokens").json()["token"]}
            paths = {"space": "/space/1", "folder": "/folder/1/list", "list": "/list/1", "task": "/task/nope"}

            def answers() -> dict[str, tuple[int, str]]:
                out = {}
                for kind, path in paths.items():
                    answer = c.get(f"/api/v2{path}", headers=auth)
                    out[kind] = (answer.status_code, answer.json()["ECODE"])
                return out

            assert c.get("/_emulator/settings").json()["unknown_id_answer"] == "oauth_023"
            assert answers() == dict.fromkeys(paths, (401, "OAUTH_023"))
            assert c.put("/_emulator/settings", json={"unknown_id_answer": "not_found"}).status_code == 200
            found = answers()
            assert found["space"] == (404, "PROJ_006")  # as recorded
            assert all(status == 404 for status, _ in found.values())
            assert c.put("/_emulator/settings", json={"unknown_id_answer": "gone"}).status_code == 400
            c.post("/_emulator/reset")
            assert c.get("/_emulator/settings").json()["unknown_id_answer"] == "oauth_023"
    finally:
        server.stop()
