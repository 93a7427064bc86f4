"""Connecting an organisation over the local stack: OAuth, state rules, disconnect, reconnect, personal tokens,
revocation, settings — through the API adapter, the ClickUp emulator and moto's KMS/DynamoDB."""

from __future__ import annotations

import json
import time

import pytest

from local.stack import LocalStack
from tests import flows
from tests.conftest import wait_for


def _items(stack: LocalStack, org_id: str) -> list[dict]:
    table = stack.aws.client("dynamodb")
    name = stack.environment()["TABLE_NAME"]
    return table.query(
        TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": f"ORG#{org_id}"}}
    )["Items"]


def _token_of(emulator, user_id: int) -> str:
    return next(
        t.value
        for t in emulator.backend.tokens.values()
        if t.user_id == user_id and t.kind == "oauth" and not t.revoked
    )


@pytest.mark.usefixtures("archived_reading")  # the first sync, under each reading of archived=true
def test_full_connect_flow(stack, api, clickup, auth, org_id, workspace, emulator) -> None:
    result = flows.connect(stack, api, clickup, auth(), org_id, workspace["user"]["id"])
    assert result["clickup"] == ["connected"]
    assert result["_location"][0].startswith(flows.portal_url(stack, org_id))

    view = api.get("/api/v1/clickup/connection", headers=auth(role="member")).json()
    assert view["status"] == "connected" and view["mode"] == "oauth"
    assert view["user"]["id"] == str(workspace["user"]["id"])
    assert view["workspaces"] == [{"id": workspace["team_id"], "name": workspace["name"], "authorized": True}]
    assert view["default_workspace_id"] == workspace["team_id"]
    assert view["webhooks"] == [{"workspace_id": workspace["team_id"], "health": "active"}]

    # Our webhook exists at ClickUp, pointing at our endpoint, with task and hierarchy events
    hooks = [h for h in emulator.backend.webhooks.values() if h.team_id == workspace["team_id"]]
    assert len(hooks) == 1 and hooks[0].endpoint == f"{stack.api_url}/webhooks/clickup"
    assert {"taskStatusUpdated", "listDeleted", "spaceUpdated", "folderCreated"} <= set(hooks[0].events)

    # The token and the webhook secret are stored only as envelopes
    token, secret = _token_of(emulator, workspace["user"]["id"]), hooks[0].secret
    raw = json.dumps(_items(stack, org_id))
    assert token not in raw and secret not in raw and '"edk"' in raw

    # The first sync was queued for this organisation
    sync_calls = stack.functions["space_sync"].invocations
    wait_for(lambda: stack.functions["space_sync"].invocations > sync_calls - 1)


def test_replayed_state_never_connects(stack, api, clickup, auth, org_id, workspace) -> None:
    clickup.post("/_emulator/login", json={"user_id": workspace["user"]["id"]})
    authorize = flows.start(api, auth(), flows.portal_url(stack, org_id)).json()["authorize_url"]
    callback = flows.consent(clickup, authorize)
    assert flows.follow_callback(api, callback)["clickup"] == ["connected"]
    api.delete("/clickup/oauth/disconnect", headers=auth())
    replay = flows.follow_callback(api, callback)
    assert replay["clickup"] == ["error"] and replay["reason"] == ["state_invalid"]
    assert api.get("/api/v1/clickup/connection", headers=auth()).json()["status"] == "disconnected"


def test_expired_state(stack, api, clickup, auth, org_id, workspace) -> None:
    clickup.post("/_emulator/login", json={"user_id": workspace["user"]["id"]})
    authorize = flows.start(api, auth(), flows.portal_url(stack, org_id)).json()["authorize_url"]
    ddb, name = stack.aws.client("dynamodb"), stack.environment()["TABLE_NAME"]
    for item in ddb.scan(
        TableName=name, FilterExpression="org_id = :o", ExpressionAttributeValues={":o": {"S": org_id}}
    )["Items"]:
        if item["pk"]["S"].startswith("OAUTH_STATE#"):
            ddb.update_item(
                TableName=name,
                Key={"pk": item["pk"], "sk": item["sk"]},
                UpdateExpression="SET expires_at = :t",
                ExpressionAttributeValues={":t": {"N": str(int(time.time()) - 1)}},
            )
    result = flows.follow_callback(api, flows.consent(clickup, authorize))
    assert result["reason"] == ["state_expired"]
    assert api.get("/api/v1/clickup/connection", headers=auth()).json()["status"] == "not_connected"


def test_state_is_bound_to_its_organisation(stack, api, clickup, auth, org_id, workspace) -> None:
    other_org = f"{org_id}-other"
    clickup.post("/_emulator/login", json={"user_id": workspace["user"]["id"]})
    # org A starts; org B's admin is not involved; completing A's flow connects A only
    authorize = flows.start(api, auth(), flows.portal_url(stack, org_id)).json()["authorize_url"]
    result = flows.follow_callback(api, flows.consent(clickup, authorize))
    assert result["clickup"] == ["connected"] and f"org={org_id}" in result["_location"][0]
    assert api.get("/api/v1/clickup/connection", headers=auth(org=other_org)).json()["status"] == "not_connected"
    # and a state cannot be completed with a swapped return_to
    authorize = flows.start(api, auth(org=other_org), flows.portal_url(stack, other_org)).json()["authorize_url"]
    callback = flows.consent(clickup, authorize) + "&return_to=https://evil.example/"
    assert "evil.example" not in flows.follow_callback(api, callback)["_location"][0]


@pytest.mark.parametrize(
    "return_to",
    [
        "https://evil.example/",
        "https://127.0.0.1:8000@evil.example/",
        "javascript:alert(1)",
        "/relative",
        "http://127.0.0.2:9/x",
    ],
)
def test_return_to_must_be_allow_listed(api, auth, return_to: str) -> None:
    response = api.get("/clickup/oauth/connect", params={"return_to": return_to}, headers=auth())
    assert response.status_code == 400 and response.json()["error"]["code"] == "return_to_not_allowed"


def test_allow_listed_origin_is_accepted(api, auth) -> None:
    put = api.put(
        "/api/v1/clickup/settings",
        headers=auth(),
        json={"enabled": True, "return_to_allow_list": ["https://portal.acme.example"]},
    )
    assert put.status_code == 200
    ok = api.get(
        "/clickup/oauth/connect", params={"return_to": "https://portal.acme.example/settings?tab=1"}, headers=auth()
    )
    assert ok.status_code == 200 and ok.json()["authorize_url"].startswith("http://127.0.0.1")
    assert "state=" in ok.json()["authorize_url"] and ok.json()["expires_at"].endswith("Z")


def test_denial_at_the_consent_page(stack, api, clickup, auth, org_id, workspace) -> None:
    clickup.post("/_emulator/login", json={"user_id": workspace["user"]["id"]})
    authorize = flows.start(api, auth(), flows.portal_url(stack, org_id)).json()["authorize_url"]
    result = flows.follow_callback(api, flows.consent(clickup, authorize, decision="deny"))
    assert result["clickup"] == ["error"] and result["reason"] == ["access_denied"]


def test_only_admins_connect_and_disconnect(api, auth) -> None:
    connect = api.get("/clickup/oauth/connect", params={"return_to": "http://127.0.0.1/"}, headers=auth("member"))
    assert connect.status_code == 403 and connect.json()["error"]["code"] == "admin_required"
    assert api.delete("/clickup/oauth/disconnect", headers=auth("member")).status_code == 403


def test_disconnect_shreds_and_is_idempotent(stack, api, clickup, auth, org_id, workspace, emulator) -> None:
    flows.connect(stack, api, clickup, auth(), org_id, workspace["user"]["id"])
    assert [h for h in emulator.backend.webhooks.values() if h.team_id == workspace["team_id"]]
    assert api.delete("/clickup/oauth/disconnect", headers=auth()).status_code == 204
    assert not [h for h in emulator.backend.webhooks.values() if h.team_id == workspace["team_id"]]
    raw = json.dumps(_items(stack, org_id))
    assert '"edk"' not in raw and '"ct"' not in raw  # no envelope left: nothing that decrypts
    view = api.get("/api/v1/clickup/connection", headers=auth()).json()
    assert view["status"] == "disconnected" and view["webhooks"] == []
    assert api.delete("/clickup/oauth/disconnect", headers=auth()).status_code == 204


def test_reconnect_reuses_the_existing_webhook(stack, api, clickup, auth, org_id, workspace, emulator) -> None:
    flows.connect(stack, api, clickup, auth(), org_id, workspace["user"]["id"])
    first = api.get("/api/v1/clickup/connection", headers=auth()).json()
    again = flows.connect(stack, api, clickup, auth(), org_id, workspace["user"]["id"])  # ClickUp: OAUTH_171
    assert again["clickup"] == ["connected"]
    hooks = [h for h in emulator.backend.webhooks.values() if h.team_id == workspace["team_id"]]
    assert len(hooks) == 1
    second = api.get("/api/v1/clickup/connection", headers=auth()).json()
    assert second["status"] == "connected" and second["connected_at"] >= first["connected_at"]
    assert second["webhooks"] == [{"workspace_id": workspace["team_id"], "health": "active"}]


def test_personal_token(api, auth, workspace) -> None:
    bad = api.put("/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": "pk_999_nope_nope"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "token_invalid"
    assert "pk_999_nope_nope" not in bad.text
    malformed = api.put("/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": "abc"})
    assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "token_malformed"
    ok = api.put("/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": workspace["token"]})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["status"] == "connected" and body["mode"] == "personal_token"
    assert workspace["token"] not in ok.text
    assert api.post("/api/v1/clickup/connection/test", headers=auth()).json()["result"] == "ok"


def test_revoked_token_turns_the_connection_to_needs_reauth(
    stack, api, clickup, auth, org_id, workspace, emulator
) -> None:
    flows.connect(stack, api, clickup, auth(), org_id, workspace["user"]["id"])
    clickup.post(f"/_emulator/tokens/{_token_of(emulator, workspace['user']['id'])}/revoke")
    result = api.post("/api/v1/clickup/connection/test", headers=auth()).json()
    assert result["result"] == "revoked"
    assert api.get("/api/v1/clickup/connection", headers=auth()).json()["status"] == "needs_reauth"
    events = [i["event"]["M"]["type"]["S"] for i in _items(stack, org_id) if i["sk"]["S"].startswith("EVENT#")]
    assert events.count("clickup.connection.needs_reauth") == 1
    # and reconnecting clears it
    flows.connect(stack, api, clickup, auth(), org_id, workspace["user"]["id"])
    assert api.get("/api/v1/clickup/connection", headers=auth()).json()["status"] == "connected"


def test_default_workspace(stack, api, clickup, auth, org_id, workspace) -> None:
    second = clickup.post(
        "/_emulator/seed", json={"user_id": workspace["user"]["id"], "workspace": {"name": "Second"}}
    ).json()
    flows.connect(stack, api, clickup, auth(), org_id, workspace["user"]["id"])
    view = api.get("/api/v1/clickup/connection", headers=auth()).json()
    assert {w["id"] for w in view["workspaces"]} == {workspace["team_id"], second["team_id"]}
    changed = api.put(
        "/api/v1/clickup/connection/default-workspace", headers=auth(), json={"workspace_id": second["team_id"]}
    )
    assert changed.status_code == 200 and changed.json()["default_workspace_id"] == second["team_id"]
    wrong = api.put("/api/v1/clickup/connection/default-workspace", headers=auth(), json={"workspace_id": "1"})
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "workspace_not_authorized"


def test_settings_validation_and_module_switch(api, auth) -> None:
    assert api.get("/api/v1/clickup/settings", headers=auth()).json() == {
        "enabled": True,
        "return_to_allow_list": [],
        "time_zone": None,
        "space_default_lists": {},
        "status_mapping": {},
        "field_mapping": {},
        "portal_webhook_url": None,
    }
    unknown = api.put("/api/v1/clickup/settings", headers=auth(), json={"enabled": True, "colour": "red"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "validation_error"
    not_origin = api.put(
        "/api/v1/clickup/settings", headers=auth(), json={"return_to_allow_list": ["https://x.example/path"]}
    )
    assert not_origin.status_code == 422
    assert api.put("/api/v1/clickup/settings", headers=auth("member"), json={"enabled": False}).status_code == 403
    assert api.put("/api/v1/clickup/settings", headers=auth(), json={"enabled": False}).status_code == 200
    for method, path in (
        ("GET", "/api/v1/clickup/connection"),
        ("POST", "/api/v1/clickup/connection/test"),
        ("GET", "/clickup/oauth/connect?return_to=http://127.0.0.1/"),
    ):
        answer = api.request(method, path, headers=auth())
        assert answer.status_code == 409 and answer.json()["error"]["code"] == "module_disabled", path


def test_connection_of_an_unconnected_org(api, auth) -> None:
    view = api.get("/api/v1/clickup/connection", headers=auth()).json()
    assert view["status"] == "not_connected" and view["workspaces"] == []
    test = api.post("/api/v1/clickup/connection/test", headers=auth())
    assert test.status_code == 409 and test.json()["error"]["code"] == "not_connected"


def test_callback_without_state_goes_to_the_portal_origin(stack, api) -> None:
    answer = api.get("/clickup/oauth/callback", params={"code": "x"})
    assert answer.status_code == 302
    assert answer.headers["location"].startswith(stack.api_url) and "reason=state_invalid" in answer.headers["location"]


def test_bad_bodies_get_4xx_not_5xx(api, auth) -> None:
    headers = {**auth(), "content-type": "application/json"}
    assert api.put("/api/v1/clickup/settings", headers=headers, content=b"{nope").status_code == 400
    assert api.put("/api/v1/clickup/settings", headers=headers, content=b"\xff\xfe").status_code in (400, 422)
    xml = api.put("/api/v1/clickup/settings", headers={**auth(), "content-type": "application/xml"}, content=b"<a/>")
    assert xml.status_code == 415
    httpx_default = api.put("/api/v1/clickup/connection/default-workspace", headers=auth(), json=[1, 2])
    assert httpx_default.status_code == 422


# -- a callback opened again (issue 14, failure 9) ---------------------------------------------------------------


def _mark(clickup) -> int:
    return int(clickup.get("/_emulator/requests", params={"since": 10**9}).json()["next"])


def _exchanges(clickup, since: int) -> int:
    log = clickup.get("/_emulator/requests", params={"since": since}).json()["requests"]
    return sum(1 for r in log if r["method"] == "POST" and r["path"].endswith("/oauth/token"))


def _consented(stack, api, clickup, auth, org_id, workspace, decision: str = "authorize") -> str:
    clickup.post("/_emulator/login", json={"user_id": workspace["user"]["id"]})
    authorize = flows.start(api, auth(), flows.portal_url(stack, org_id)).json()["authorize_url"]
    return flows.consent(clickup, authorize, decision=decision)


def _age_state(stack, org_id: str, seconds: int) -> None:
    """Move the organisation's OAuth states `seconds` into the past (expires_at)."""
    ddb, name = stack.aws.client("dynamodb"), stack.environment()["TABLE_NAME"]
    for item in ddb.scan(
        TableName=name, FilterExpression="org_id = :o", ExpressionAttributeValues={":o": {"S": org_id}}
    )["Items"]:
        if item["pk"]["S"].startswith("OAUTH_STATE#"):
            ddb.update_item(
                TableName=name,
                Key={"pk": item["pk"], "sk": item["sk"]},
                UpdateExpression="SET expires_at = expires_at - :s",
                ExpressionAttributeValues={":s": {"N": str(seconds)}},
            )


def test_a_reloaded_callback_after_a_connect_lands_on_connected_again(
    stack, api, clickup, auth, org_id, workspace
) -> None:
    callback = _consented(stack, api, clickup, auth, org_id, workspace)
    mark = _mark(clickup)
    first = flows.follow_callback(api, callback)
    assert first["clickup"] == ["connected"]
    connected_at = api.get("/api/v1/clickup/connection", headers=auth()).json()["connected_at"]
    for _ in range(2):  # reloaded, twice
        again = flows.follow_callback(api, callback)
        assert again["clickup"] == ["connected"] and "reason" not in again
        assert again["_location"] == first["_location"]
    assert _exchanges(clickup, mark) == 1  # the code was exchanged once, by the first callback
    view = api.get("/api/v1/clickup/connection", headers=auth()).json()
    assert view["status"] == "connected" and view["connected_at"] == connected_at  # nothing was done again


def test_two_callbacks_at_once_exchange_once_and_both_land_on_connected(
    stack, api, clickup, auth, org_id, workspace
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    callback = _consented(stack, api, clickup, auth, org_id, workspace)
    mark = _mark(clickup)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: flows.follow_callback(api, callback), range(2)))
    assert [r["clickup"] for r in results] == [["connected"], ["connected"]]
    assert _exchanges(clickup, mark) == 1


def test_a_reloaded_callback_of_a_failed_attempt_stays_an_error(stack, api, clickup, auth, org_id, workspace) -> None:
    denied = _consented(stack, api, clickup, auth, org_id, workspace, decision="deny")
    assert flows.follow_callback(api, denied)["reason"] == ["access_denied"]
    again = flows.follow_callback(api, denied)
    assert again["clickup"] == ["error"] and again["reason"] == ["state_invalid"]
    # a code ClickUp refuses: the attempt failed, its reload stays an error, nothing is exchanged again
    callback = _consented(stack, api, clickup, auth, org_id, workspace)
    spent = callback.replace("code=", "code=spent")
    mark = _mark(clickup)
    assert flows.follow_callback(api, spent)["reason"] == ["exchange_failed"]
    assert flows.follow_callback(api, spent)["reason"] == ["state_invalid"]
    assert flows.follow_callback(api, callback)["reason"] == ["state_invalid"]  # the same state, the right code
    assert _exchanges(clickup, mark) == 1
    assert api.get("/api/v1/clickup/connection", headers=auth()).json()["status"] == "not_connected"


def test_a_reloaded_callback_after_the_state_expired_is_state_expired(
    stack, api, clickup, auth, org_id, workspace
) -> None:
    callback = _consented(stack, api, clickup, auth, org_id, workspace)
    assert flows.follow_callback(api, callback)["clickup"] == ["connected"]
    _age_state(stack, org_id, 601)  # the state's 10 minutes are over
    mark = _mark(clickup)
    again = flows.follow_callback(api, callback)
    assert again["clickup"] == ["error"] and again["reason"] == ["state_expired"]
    assert _exchanges(clickup, mark) == 0
    assert api.get("/api/v1/clickup/connection", headers=auth()).json()["status"] == "connected"


def test_a_reloaded_callback_after_a_disconnect_or_another_connect_is_state_invalid(
    stack, api, clickup, auth, org_id, workspace
) -> None:
    first = _consented(stack, api, clickup, auth, org_id, workspace)
    assert flows.follow_callback(api, first)["clickup"] == ["connected"]
    # reconnected through another flow: the first state no longer speaks for the connection, the second does
    second = _consented(stack, api, clickup, auth, org_id, workspace)
    assert flows.follow_callback(api, second)["clickup"] == ["connected"]
    mark = _mark(clickup)
    assert flows.follow_callback(api, first)["reason"] == ["state_invalid"]
    assert flows.follow_callback(api, second)["clickup"] == ["connected"]
    # reconnected with a personal token: neither state does
    answer = api.put("/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": workspace["token"]})
    assert answer.status_code == 200, answer.text
    assert flows.follow_callback(api, second)["reason"] == ["state_invalid"]
    # a third flow, then disconnected: its reload is an error too
    third = _consented(stack, api, clickup, auth, org_id, workspace)
    assert flows.follow_callback(api, third)["clickup"] == ["connected"]
    assert api.delete("/clickup/oauth/disconnect", headers=auth()).status_code == 204
    assert flows.follow_callback(api, third)["reason"] == ["state_invalid"]
    assert _exchanges(clickup, mark) == 1  # only the third flow's own exchange
    assert api.get("/api/v1/clickup/connection", headers=auth()).json()["status"] == "disconnected"


def test_a_reloaded_callback_after_the_token_was_revoked_is_state_invalid(
    stack, api, clickup, auth, org_id, workspace, emulator
) -> None:
    callback = _consented(stack, api, clickup, auth, org_id, workspace)
    assert flows.follow_callback(api, callback)["clickup"] == ["connected"]
    token = _token_of(emulator, workspace["user"]["id"])
    clickup.post(f"/_emulator/tokens/{token}/revoke")
    assert api.post("/api/v1/clickup/connection/test", headers=auth()).json()["result"] == "revoked"
    again = flows.follow_callback(api, callback)
    assert again["clickup"] == ["error"] and again["reason"] == ["state_invalid"]
