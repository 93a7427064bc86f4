"""Every operation the emulator serves answers as ClickUp's OpenAPI document says (and the client asks as it says)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import httpx

from bridge.clickup.client import ClickUpClient, exchange_code
from local.emulator.routes import ClickUpApi
from tests.receiver import Receiver


def _template(path: str, api: ClickUpApi) -> str | None:
    for rule in api.url_map.iter_rules():
        pattern = "^" + re.sub(r"<[^>]+>", "[^/]+", rule.rule) + "$"
        if re.match(pattern, path):
            return rule.rule
    return None


def test_every_served_operation_matches_the_document(
    workspace: dict, clickup: httpx.Client, clickup_recorder, emulator
) -> None:
    start = len(clickup_recorder.exchanges)
    client = ClickUpClient(workspace["token"])
    team, space = workspace["team_id"], workspace["spaces"][0]
    folder, inbox = space["folders"][0], space["lists"][0]
    l1 = folder["lists"][0]
    severity = l1["fields"][0]

    client.get_user()
    client.get_teams()
    client.get_spaces(team)
    client.get_spaces(team, archived=True)
    client.request("GET", f"/space/{space['id']}")
    client.get_folders(space["id"])
    client.request("GET", f"/folder/{folder['id']}")
    client.request("GET", f"/folder/{folder['id']}/list")
    client.get_folderless_lists(space["id"])
    client.get_list(inbox["id"])
    client.get_list_fields(l1["id"])
    task = client.create_task(
        l1["id"],
        {
            "name": "contract",
            "markdown_content": "**hi**",
            "priority": 2,
            "due_date": 1767225600000,
            "tags": ["portal"],
        },
    )
    client.get_task(task.id)
    client.update_task(task.id, {"status": "in progress", "priority": 1})
    client.set_custom_field(task.id, severity["id"], severity["options"]["S2"])
    comment_id, _ = client.add_comment(task.id, "from the portal")
    client.request("GET", f"/task/{task.id}/comment")
    edit = {"comment_text": "edited", "assignee": int(workspace["user"]["id"]), "resolved": False}
    client.request("PUT", f"/comment/{comment_id}", json=edit)
    client.request("GET", f"/task/{task.id}/comment", params={"start": 1, "start_id": comment_id})
    client.request("DELETE", f"/comment/{comment_id}")
    list(client.iter_list_tasks(l1["id"], include_closed=True))
    list(client.iter_team_task_pages(team, include_closed=True, subtasks=True, order_by="updated", reverse=True))
    with Receiver() as receiver:
        hook = client.create_webhook(team, receiver.url, ["taskCreated", "listUpdated"])
        client.get_webhooks(team)
        client.update_webhook(hook.id, receiver.url, ["taskCreated"], status="active")
        client.delete_webhook(hook.id)
    client.delete_task(task.id)

    app = clickup.post("/_emulator/apps", json={"name": "c", "redirect_uris": ["https://p.example/cb"]}).json()
    clickup.post("/_emulator/login", json={"user_id": workspace["user"]["id"]})
    location = clickup.post(
        "/api/authorize",
        data={
            "client_id": app["client_id"],
            "redirect_uri": "https://p.example/cb",
            "user_id": workspace["user"]["id"],
            "team_ids": [team],
            "decision": "authorize",
        },
    ).headers["location"]
    exchange_code(app["client_id"], app["client_secret"], parse_qs(urlparse(location).query)["code"][0])

    mine = clickup_recorder.exchanges[start:]
    assert [e for e in mine if e.response_errors] == []
    assert [e for e in mine if e.request_errors] == []
    served = {
        (m, rule.rule)
        for rule in emulator.api.url_map.iter_rules()
        for m in rule.methods or ()
        if rule.rule.startswith("/api/v2") and m not in ("HEAD", "OPTIONS")
    }
    covered = {(e.method, _template(e.path, emulator.api)) for e in mine if e.status < 300}
    assert served - covered == set()
