"""A token narrowed by a later OAuth consent: ClickUp keeps one token per user and app, so another organisation
connecting the same ClickUp user for fewer workspaces narrows this organisation's token too. The maintenance jobs
(sweep, webhook health) and the space sync then meet 401 OAUTH_027/OAUTH_023 on the workspace it lost: each marks
it `authorized: false`, carries on with the other workspaces and completes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests import flows
from tests.conftest import send, wait_for


def _connection(api, headers: dict[str, str]) -> dict[str, Any]:
    return dict(api.get("/api/v1/clickup/connection", headers=headers).json())


def _maintenance_idle(stack) -> bool:
    attributes = stack.aws.client("sqs").get_queue_attributes(
        QueueUrl=stack.environment()["MAINTENANCE_QUEUE_URL"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        attributes["ApproximateNumberOfMessages"] == "0" and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    )


def _checkpoint(stack, org: str, ws: str) -> Any:
    item = stack.aws.client("dynamodb").get_item(
        TableName=stack.environment()["TABLE_NAME"],
        Key={"pk": {"S": f"ORG#{org}"}, "sk": {"S": f"SWEEP#{ws}"}},
        ConsistentRead=True,
    )
    return item.get("Item")


@pytest.fixture
def narrowed(stack, api, clickup, workspace) -> dict[str, Any]:
    """Org A connected by OAuth for the user's two workspaces, then org B connected by the same user for only the
    second: A's token (the same one) no longer authorizes the first."""
    user_id = workspace["user"]["id"]
    second = clickup.post(
        "/_emulator/seed",
        json={"user_id": user_id, "workspace": {"name": f"Second {uuid.uuid4().hex[:6]}", "spaces": [{"name": "S"}]}},
    ).json()
    org_a, org_b = f"org-{uuid.uuid4().hex[:10]}", f"org-{uuid.uuid4().hex[:10]}"

    def auth_a() -> dict[str, str]:
        return {"Authorization": f"Bearer {stack.token(org_a, role='admin')}"}

    assert flows.connect(stack, api, clickup, auth_a(), org_a, user_id)["clickup"] == ["connected"]
    first, other = workspace["team_id"], second["team_id"]
    view = _connection(api, auth_a())
    assert {w["id"]: w["authorized"] for w in view["workspaces"]} == {first: True, other: True}
    wait_for(lambda: api.get("/api/v1/clickup/spaces", headers=auth_a()).json().get("synced_at"), timeout_s=30)

    headers_b = {"Authorization": f"Bearer {stack.token(org_b, role='admin')}"}
    clickup.post("/_emulator/login", json={"user_id": user_id})
    started = flows.start(api, headers_b, flows.portal_url(stack, org_b))
    assert started.status_code == 200, started.text
    callback = flows.consent(clickup, started.json()["authorize_url"], team_ids=[other])
    assert flows.follow_callback(api, callback)["clickup"] == ["connected"]
    # the narrowing is ClickUp's: A's token is now refused on the first workspace
    assert _connection(api, auth_a())["workspaces"][0]["authorized"] is True  # A does not know yet
    return {"org": org_a, "auth": auth_a, "lost": first, "kept": other}


def _job(stack, kind: str, org: str) -> None:
    send(
        stack, "maintenance", {"kind": kind, "org_id": org}, MessageGroupId=org, MessageDeduplicationId=uuid.uuid4().hex
    )


def _marked(api, narrowed) -> bool:
    view = _connection(api, narrowed["auth"]())
    return {w["id"]: w["authorized"] for w in view["workspaces"]} == {narrowed["lost"]: False, narrowed["kept"]: True}


def test_the_sweep_marks_a_workspace_the_token_lost_and_sweeps_the_others(stack, api, narrowed) -> None:
    org = narrowed["org"]
    assert _checkpoint(stack, org, narrowed["kept"]) is None
    _job(stack, "sweep", org)
    wait_for(lambda: _marked(api, narrowed), timeout_s=30)
    wait_for(lambda: _checkpoint(stack, org, narrowed["kept"]) is not None, timeout_s=30)  # it went on
    wait_for(lambda: _maintenance_idle(stack), timeout_s=30)  # completed: nothing in flight, no retry
    view = _connection(api, narrowed["auth"]())
    assert view["default_workspace_id"] == narrowed["kept"]
    health = {w["workspace_id"]: w["health"] for w in view["webhooks"]}
    assert health[narrowed["lost"]] == "unauthorized" and health[narrowed["kept"]] == "active"
    # the next sweep runs over the still-authorized workspace only, and completes
    before = _checkpoint(stack, org, narrowed["kept"])
    _job(stack, "sweep", org)
    wait_for(lambda: _maintenance_idle(stack), timeout_s=30)
    assert _checkpoint(stack, org, narrowed["kept"]) is not None and before is not None
    assert _marked(api, narrowed)


def test_the_health_check_marks_a_workspace_the_token_lost_and_checks_the_others(stack, api, clickup, narrowed) -> None:
    org = narrowed["org"]
    _job(stack, "health", org)
    wait_for(lambda: _marked(api, narrowed), timeout_s=30)
    wait_for(lambda: _maintenance_idle(stack), timeout_s=30)
    health = {w["workspace_id"]: w["health"] for w in _connection(api, narrowed["auth"]())["webhooks"]}
    assert health == {narrowed["lost"]: "unauthorized", narrowed["kept"]: "active"}


def test_the_space_sync_marks_a_workspace_the_token_lost_and_syncs_the_others(stack, api, narrowed) -> None:
    headers = narrowed["auth"]()
    before = api.get("/api/v1/clickup/spaces", headers=headers).json()["synced_at"]
    calls = stack.functions["space_sync"].invocations
    queued = api.post("/api/v1/clickup/sync", headers=headers)
    assert queued.status_code == 202, queued.text
    wait_for(lambda: _marked(api, narrowed), timeout_s=30)
    wait_for(lambda: stack.functions["space_sync"].invocations > calls, timeout_s=30)
    wait_for(lambda: api.get("/api/v1/clickup/spaces", headers=headers).json().get("synced_at") != before, 30)
    assert _connection(api, headers)["last_sync_at"] is not None
