"""Organisations that connect the same ClickUp user and workspace (issue 14, failure 5).

ClickUp keeps one webhook per user and configuration: a second create answers OAUTH_171. Which configuration is
"the same" is not documented, so each test that registers runs under every reading the emulator offers
(`PUT /_emulator/webhooks/uniqueness`). Each organisation must receive the changes of its own linked tasks (and
only those), one disconnecting never silences another, and the health each sees matches what exists at ClickUp.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import wait_for
from tests.integration.test_webhooks import _act, _created_task, _events, _inbox, _job, _space

READINGS = ("endpoint_location", "events_location", "endpoint_events_location")


@pytest.fixture(params=READINGS)
def reading(request: pytest.FixtureRequest, clickup: httpx.Client) -> Iterator[str]:
    clickup.put("/_emulator/webhooks/uniqueness", json={"reading": request.param}).raise_for_status()
    yield str(request.param)
    clickup.put("/_emulator/webhooks/uniqueness", json={"reading": "endpoint_location"}).raise_for_status()


class Org:
    """One portal organisation over the API, bound to its own JWTs."""

    def __init__(self, api: httpx.Client, auth: Callable[..., dict[str, str]], org_id: str) -> None:
        self.api, self.org_id = api, org_id
        self.auth: Callable[..., dict[str, str]] = lambda **kw: auth(**{"org": org_id, **kw})

    def connect(self, token: str, workspace: dict[str, Any]) -> None:
        answer = self.api.put("/api/v1/clickup/connection/personal-token", headers=self.auth(), json={"token": token})
        assert answer.status_code == 200, answer.text
        wait_for(lambda: self.api.get("/api/v1/clickup/spaces", headers=self.auth()).json().get("synced_at"), 30)
        body = {"space_id": _space(workspace)["id"], "list_id": _inbox(workspace)["id"]}
        answer = self.api.put("/api/v1/customers/cust-1/clickup-space", headers=self.auth(), json=body)
        assert answer.status_code == 200, answer.text

    def disconnect(self) -> None:
        assert self.api.delete("/clickup/oauth/disconnect", headers=self.auth()).status_code == 204

    def task(self, clickup: httpx.Client) -> tuple[str, str]:
        ticket_id = str(uuid.uuid4())
        return ticket_id, _created_task(self.api, self.auth, clickup, ticket_id)["task_id"]

    def status(self, ticket_id: str) -> str:
        return str(self.api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=self.auth()).json()["status"])

    def health(self) -> list[dict[str, Any]]:
        return list(self.api.get("/api/v1/clickup/connection", headers=self.auth()).json()["webhooks"])

    def status_events(self, ticket_id: str | None = None) -> list[dict[str, Any]]:
        return _events(self.api, self.auth, ticket_id, "clickup.task.status_changed")


def _org(api, auth) -> Org:
    return Org(api, auth, f"org-{uuid.uuid4().hex[:10]}")


def _second_token(clickup: httpx.Client, workspace: dict[str, Any]) -> str:
    """Another personal token of the same ClickUp user (organisation B's own token)."""
    return str(clickup.post(f"/_emulator/users/{workspace['user']['id']}/tokens").json()["token"])


def _hooks_at_clickup(clickup: httpx.Client, workspace: dict[str, Any]) -> list[dict[str, Any]]:
    hooks = clickup.get("/_emulator/webhooks").json()["webhooks"]
    return [h for h in hooks if str(h["team_id"]) == str(workspace["team_id"])]


def _changes_reach(clickup, workspace, org: Org, ticket_id: str, task_id: str, status: str, actor=None) -> None:
    """A ClickUp user sets the task's status: the organisation's link follows and it gets the event."""
    _act(clickup, actor or workspace, action="set_status", task_id=task_id, status=status)
    wait_for(lambda: org.status(ticket_id) == status, timeout_s=30)
    wait_for(lambda: any(e["data"].get("status") == status for e in org.status_events(ticket_id)), timeout_s=30)


def _health_matches_clickup(clickup, workspace, *orgs: Org) -> None:
    """Each organisation's health is what ClickUp shows for the webhooks that exist."""
    statuses = {h["health"]["status"] for h in _hooks_at_clickup(clickup, workspace)}
    for org in orgs:
        health = org.health()
        assert [h["workspace_id"] for h in health] == [workspace["team_id"]], health
        assert health[0]["health"] in statuses, (health, statuses)


# -- both receive their own changes -------------------------------------------------------------------------
def test_two_organisations_of_one_clickup_user_each_receive_their_own_changes(
    api, auth, clickup, workspace, reading
) -> None:
    a, b = _org(api, auth), _org(api, auth)
    a.connect(workspace["token"], workspace)
    b.connect(_second_token(clickup, workspace), workspace)  # the same user: ClickUp answers OAUTH_171
    assert len(_hooks_at_clickup(clickup, workspace)) == 1  # one webhook, used by both
    ticket_a, task_a = a.task(clickup)
    ticket_b, task_b = b.task(clickup)
    _changes_reach(clickup, workspace, a, ticket_a, task_a, "doing")
    _changes_reach(clickup, workspace, b, ticket_b, task_b, "done")
    # each only its own: A's task is not B's news, nor B's task A's
    time.sleep(1)
    assert {e["ticket_id"] for e in a.status_events()} == {ticket_a}
    assert {e["ticket_id"] for e in b.status_events()} == {ticket_b}
    assert a.health() == b.health() == [{"workspace_id": workspace["team_id"], "health": "active"}]


# -- one leaving never silences the other -------------------------------------------------------------------
@pytest.mark.parametrize("first", ["b", "a"])
def test_one_organisation_disconnecting_never_silences_another(api, auth, clickup, workspace, reading, first) -> None:
    a, b = _org(api, auth), _org(api, auth)
    a.connect(workspace["token"], workspace)
    b.connect(_second_token(clickup, workspace), workspace)
    leaving, staying = (b, a) if first == "b" else (a, b)
    ticket, task = staying.task(clickup)
    leaving.disconnect()
    hooks = _hooks_at_clickup(clickup, workspace)
    assert len(hooks) == 1, hooks  # still there for the one staying
    assert leaving.health() == []
    _changes_reach(clickup, workspace, staying, ticket, task, "doing")
    assert staying.health() == [{"workspace_id": workspace["team_id"], "health": "active"}]
    _health_matches_clickup(clickup, workspace, staying)
    staying.disconnect()  # the last user: the webhook goes
    assert _hooks_at_clickup(clickup, workspace) == []


def test_a_revoked_token_of_one_organisation_does_not_silence_the_other(api, auth, clickup, workspace, reading) -> None:
    a, b = _org(api, auth), _org(api, auth)
    b.connect(_second_token(clickup, workspace), workspace)
    a.connect(workspace["token"], workspace)  # A joins B's webhook (it never takes it over)
    ticket, task = b.task(clickup)
    clickup.post(f"/_emulator/tokens/{workspace['token']}/revoke").raise_for_status()  # A's token only
    a.disconnect()  # A cannot delete anything with its token, and must not: B uses the webhook
    assert len(_hooks_at_clickup(clickup, workspace)) == 1
    _changes_reach(clickup, workspace, b, ticket, task, "doing")
    b.disconnect()  # B's token deletes it
    assert _hooks_at_clickup(clickup, workspace) == []


# -- health is what exists at ClickUp -----------------------------------------------------------------------
def test_health_follows_the_shared_webhook_deleted_behind_our_back(
    api, auth, clickup, workspace, stack, reading
) -> None:
    a, b = _org(api, auth), _org(api, auth)
    a.connect(workspace["token"], workspace)
    b.connect(_second_token(clickup, workspace), workspace)
    (hook,) = _hooks_at_clickup(clickup, workspace)
    ticket_a, task_a = a.task(clickup)
    ticket_b, task_b = b.task(clickup)
    # suspended at ClickUp: one organisation's check re-enables it, and both see it active again
    clickup.put(f"/_emulator/webhooks/{hook['id']}/health", json={"status": "suspended", "fail_count": 100})
    _job(stack, "health", a.org_id)
    wait_for(lambda: _hooks_at_clickup(clickup, workspace)[0]["health"]["status"] == "active", timeout_s=30)
    wait_for(lambda: a.health() == b.health() == [{"workspace_id": workspace["team_id"], "health": "active"}])
    # deleted at ClickUp: the first check re-creates it and every organisation that used it sees it missing
    deleted = clickup.delete(f"/api/v2/webhook/{hook['id']}", headers={"Authorization": workspace["token"]})
    assert deleted.status_code == 200, deleted.text
    _job(stack, "health", a.org_id)
    fresh = wait_for(lambda: [h for h in _hooks_at_clickup(clickup, workspace) if h["id"] != hook["id"]], 30)[0]
    wait_for(lambda: a.health() == [{"workspace_id": workspace["team_id"], "health": "active"}])
    assert b.health() == [{"workspace_id": workspace["team_id"], "health": "missing"}]  # B's is gone: it says so
    _job(stack, "health", b.org_id)  # B's own check adopts the re-created one
    wait_for(lambda: b.health() == [{"workspace_id": workspace["team_id"], "health": "active"}], timeout_s=30)
    assert [h["id"] for h in _hooks_at_clickup(clickup, workspace)] == [fresh["id"]]
    _changes_reach(clickup, workspace, a, ticket_a, task_a, "doing")
    _changes_reach(clickup, workspace, b, ticket_b, task_b, "doing")
    _health_matches_clickup(clickup, workspace, a, b)


# -- the rest of the kind -----------------------------------------------------------------------------------
def test_different_clickup_users_in_one_workspace_get_a_webhook_each(api, auth, clickup, workspace, reading) -> None:
    colleague, colleague_token = _colleague_token(clickup, workspace)
    a, b = _org(api, auth), _org(api, auth)
    a.connect(workspace["token"], workspace)
    b.connect(colleague_token, workspace)
    hooks = _hooks_at_clickup(clickup, workspace)
    assert sorted(h["userid"] for h in hooks) == sorted([workspace["user"]["id"], colleague["id"]])
    ticket_a, task_a = a.task(clickup)
    ticket_b, task_b = b.task(clickup)
    _changes_reach(clickup, workspace, b, ticket_b, task_b, "done")
    assert {e["ticket_id"] for e in b.status_events()} == {ticket_b}
    b.disconnect()  # deletes B's own webhook only
    assert [h["userid"] for h in _hooks_at_clickup(clickup, workspace)] == [workspace["user"]["id"]]
    _changes_reach(clickup, workspace, a, ticket_a, task_a, "doing")
    assert {e["ticket_id"] for e in a.status_events()} == {ticket_a}
    _health_matches_clickup(clickup, workspace, a)


def test_reconnecting_keeps_one_webhook_for_every_organisation(api, auth, clickup, workspace, reading) -> None:
    a, b = _org(api, auth), _org(api, auth)
    a.connect(workspace["token"], workspace)
    b_token = _second_token(clickup, workspace)
    b.connect(b_token, workspace)
    ticket_a, task_a = a.task(clickup)
    ticket_b, task_b = b.task(clickup)
    a.connect(workspace["token"], workspace)  # the same organisation again: OAUTH_171, the same webhook
    assert len(_hooks_at_clickup(clickup, workspace)) == 1
    _changes_reach(clickup, workspace, a, ticket_a, task_a, "doing")
    _changes_reach(clickup, workspace, b, ticket_b, task_b, "doing")
    b.disconnect()
    b.connect(b_token, workspace)  # back after leaving: joins the webhook A kept
    assert len(_hooks_at_clickup(clickup, workspace)) == 1
    _changes_reach(clickup, workspace, a, ticket_a, task_a, "done")
    ticket_b2, task_b2 = b.task(clickup)
    _changes_reach(clickup, workspace, b, ticket_b2, task_b2, "done")
    _health_matches_clickup(clickup, workspace, a, b)


def _colleague_token(clickup: httpx.Client, workspace: dict[str, Any]) -> tuple[dict[str, Any], str]:
    tag = uuid.uuid4().hex[:6]
    colleague = clickup.post("/_emulator/users", json={"username": f"C {tag}", "email": f"c{tag}@example.com"}).json()
    clickup.post(f"/_emulator/teams/{workspace['team_id']}/members", json={"user_id": colleague["id"]})
    return colleague, str(clickup.post(f"/_emulator/users/{colleague['id']}/tokens").json()["token"])


@pytest.mark.parametrize("shared_with_b", [False, True])
def test_reconnecting_as_another_clickup_user_moves_to_that_users_webhook(
    api, auth, clickup, workspace, reading, shared_with_b
) -> None:
    a, b = _org(api, auth), _org(api, auth)
    a.connect(workspace["token"], workspace)
    if shared_with_b:
        b.connect(_second_token(clickup, workspace), workspace)
    ticket_a, task_a = a.task(clickup)
    colleague, colleague_token = _colleague_token(clickup, workspace)
    a.connect(colleague_token, workspace)  # A now connects the colleague
    owners = sorted(h["userid"] for h in _hooks_at_clickup(clickup, workspace))
    # the first user's webhook is deleted with that user's token, unless B still uses it
    assert owners == sorted([colleague["id"]] + ([workspace["user"]["id"]] if shared_with_b else []))
    _changes_reach(clickup, workspace, a, ticket_a, task_a, "doing")
    assert len([e for e in a.status_events(ticket_a) if e["data"].get("status") == "doing"]) == 1  # not twice
    _health_matches_clickup(clickup, workspace, a)
    if shared_with_b:
        ticket_b, task_b = b.task(clickup)
        _changes_reach(clickup, workspace, b, ticket_b, task_b, "doing")
        _health_matches_clickup(clickup, workspace, b)


def _at_once(*steps: Callable[[], None]) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(steps))

    def run(step: Callable[[], None]) -> None:
        try:
            barrier.wait()
            step()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in steps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


def test_two_organisations_connecting_at_the_same_moment_share_one_webhook(
    api, auth, clickup, workspace, reading
) -> None:
    a, b = _org(api, auth), _org(api, auth)
    b_token = _second_token(clickup, workspace)
    _at_once(lambda: a.connect(workspace["token"], workspace), lambda: b.connect(b_token, workspace))
    assert len(_hooks_at_clickup(clickup, workspace)) == 1
    ticket_a, task_a = a.task(clickup)
    ticket_b, task_b = b.task(clickup)
    _changes_reach(clickup, workspace, a, ticket_a, task_a, "doing")
    _changes_reach(clickup, workspace, b, ticket_b, task_b, "doing")


def test_one_leaving_while_another_joins_leaves_the_joiner_receiving(api, auth, clickup, workspace, reading) -> None:
    for _ in range(3):
        a, b = _org(api, auth), _org(api, auth)
        a.connect(workspace["token"], workspace)
        _at_once(a.disconnect, lambda b=b: b.connect(_second_token(clickup, workspace), workspace))
        hooks = _hooks_at_clickup(clickup, workspace)
        assert len(hooks) == 1, hooks  # B's: kept from A, or created after A deleted it
        ticket, task = b.task(clickup)
        _changes_reach(clickup, workspace, b, ticket, task, "doing")
        _health_matches_clickup(clickup, workspace, b)
        b.disconnect()
        assert _hooks_at_clickup(clickup, workspace) == []


# -- the emulator's readings of OAUTH_171 -------------------------------------------------------------------
EXPECTED_DUPLICATE = {  # (same endpoint, same events) -> OAUTH_171?, per reading; the same user and location
    "endpoint_location": {(True, True): True, (False, True): False, (True, False): True, (False, False): False},
    "events_location": {(True, True): True, (False, True): True, (True, False): False, (False, False): False},
    "endpoint_events_location": {(True, True): True, (False, True): False, (True, False): False, (False, False): False},
}


def test_the_emulator_answers_oauth_171_as_each_reading_says(clickup, workspace, reading) -> None:
    team, headers = workspace["team_id"], {"Authorization": workspace["token"]}
    base = {"endpoint": "https://one.example/hook", "events": ["taskCreated", "taskUpdated"]}
    first = clickup.post(f"/api/v2/team/{team}/webhook", headers=headers, json=base)
    assert first.status_code == 200, first.text
    for (same_endpoint, same_events), duplicate in EXPECTED_DUPLICATE[reading].items():
        body = {
            "endpoint": base["endpoint"] if same_endpoint else f"https://{uuid.uuid4().hex[:8]}.example/hook",
            "events": list(reversed(base["events"])) if same_events else ["taskDeleted"],  # order is not identity
        }
        answer = clickup.post(f"/api/v2/team/{team}/webhook", headers=headers, json=body)
        if duplicate:
            assert (answer.status_code, answer.json()["ECODE"]) == (400, "OAUTH_171"), (body, answer.text)
        else:
            assert answer.status_code == 200, (body, answer.text)
            clickup.delete(f"/api/v2/webhook/{answer.json()['id']}", headers=headers).raise_for_status()
    # another location, or another user, is never the same configuration
    space = {**base, "space_id": int(_space(workspace)["id"])}
    assert clickup.post(f"/api/v2/team/{team}/webhook", headers=headers, json=space).status_code == 200
    tag = uuid.uuid4().hex[:6]
    other = clickup.post("/_emulator/users", json={"username": f"O {tag}", "email": f"o{tag}@example.com"}).json()
    clickup.post(f"/_emulator/teams/{team}/members", json={"user_id": other["id"]})
    other_token = clickup.post(f"/_emulator/users/{other['id']}/tokens").json()["token"]
    answer = clickup.post(f"/api/v2/team/{team}/webhook", headers={"Authorization": other_token}, json=base)
    assert answer.status_code == 200, answer.text
    assert clickup.put("/_emulator/webhooks/uniqueness", json={"reading": "nope"}).status_code == 400


def _meta(stack, hook_id: str) -> dict[str, Any]:
    answer = stack.aws.client("dynamodb").get_item(
        TableName=stack.environment()["TABLE_NAME"],
        Key={"pk": {"S": f"WEBHOOK#{hook_id}"}, "sk": {"S": "META"}},
        ConsistentRead=True,
    )
    return dict(answer.get("Item") or {})


def test_a_leaver_that_died_after_claiming_the_deletion_does_not_block_joiners(
    api, auth, clickup, workspace, stack
) -> None:
    a, b = _org(api, auth), _org(api, auth)
    a.connect(workspace["token"], workspace)
    (hook,) = _hooks_at_clickup(clickup, workspace)
    # A's disconnect claimed the deletion and died before deleting (what its leave writes, ten minutes ago)
    stack.aws.client("dynamodb").update_item(
        TableName=stack.environment()["TABLE_NAME"],
        Key={"pk": {"S": f"WEBHOOK#{hook['id']}"}, "sk": {"S": "META"}},
        UpdateExpression="REMOVE orgs SET #s = :d, claimed_at = :t",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":d": {"S": "deleting"}, ":t": {"N": str(int(time.time()) - 600)}},
    )
    b.connect(_second_token(clickup, workspace), workspace)  # takes the stale claim over
    meta = _meta(stack, hook["id"])
    assert "state" not in meta and set(meta["orgs"]["SS"]) == {b.org_id}
    ticket, task = b.task(clickup)
    _changes_reach(clickup, workspace, b, ticket, task, "doing")
    assert b.health() == [{"workspace_id": workspace["team_id"], "health": "active"}]
