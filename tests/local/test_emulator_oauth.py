"""OAuth against the emulator over HTTP: consent page, authorize, single-use code exchange, ClickUp's errors."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from bridge.clickup.client import ClickUpClient, exchange_code
from bridge.clickup.errors import Permanent, TokenRevoked, WorkspaceNotAuthorized

REDIRECT = "https://portal.example/clickup/callback"


@pytest.fixture
def app(clickup: httpx.Client, workspace: dict) -> dict:
    clickup.post("/_emulator/login", json={"user_id": workspace["user"]["id"]})
    return clickup.post("/_emulator/apps", json={"name": "Portal", "redirect_uris": [REDIRECT]}).json()


def _consent(clickup: httpx.Client, app: dict, state: str = "st-1") -> str:
    page = clickup.get("/api", params={"client_id": app["client_id"], "redirect_uri": REDIRECT, "state": state})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    return page.text


def _authorize(
    clickup: httpx.Client,
    app: dict,
    workspace: dict,
    team_ids: list[str],
    state: str = "st-1",
    decision: str = "authorize",
) -> dict[str, list[str]]:
    response = clickup.post(
        "/api/authorize",
        data={
            "client_id": app["client_id"],
            "redirect_uri": REDIRECT,
            "state": state,
            "user_id": workspace["user"]["id"],
            "team_ids": team_ids,
            "decision": decision,
        },
    )
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return parse_qs(urlparse(location).query)


def test_consent_page_lists_the_users_workspaces(clickup: httpx.Client, app: dict, workspace: dict) -> None:
    page = _consent(clickup, app)
    assert workspace["name"] in page
    assert re.search(r"name='team_ids' value='{}'".format(workspace["team_id"]), page)
    assert "id='authorize'" in page


@pytest.mark.parametrize("style", ["json", "form", "query"])
def test_code_exchange_in_every_style_and_single_use(
    clickup: httpx.Client, app: dict, workspace: dict, style: str
) -> None:
    query = _authorize(clickup, app, workspace, [workspace["team_id"]])
    assert query["state"] == ["st-1"]
    creds = {"client_id": app["client_id"], "client_secret": app["client_secret"], "code": query["code"][0]}
    kwargs = {"json": creds} if style == "json" else {"data": creds} if style == "form" else {"params": creds}
    first = clickup.post("/api/v2/oauth/token", **kwargs)
    assert first.status_code == 200 and first.json()["access_token"]
    again = clickup.post("/api/v2/oauth/token", **kwargs)
    assert again.status_code == 401 and again.json()["ECODE"] == "OAUTH_015"

    token = first.json()["access_token"]
    teams = clickup.get("/api/v2/team", headers={"Authorization": f"Bearer {token}"}).json()["teams"]
    assert [t["id"] for t in teams] == [workspace["team_id"]]


def test_client_exchange_and_token_use(clickup: httpx.Client, app: dict, workspace: dict, stack) -> None:
    code = _authorize(clickup, app, workspace, [workspace["team_id"]])["code"][0]
    token = exchange_code(app["client_id"], app["client_secret"], code)
    client = ClickUpClient(token)
    assert client.get_user().id == str(workspace["user"]["id"])
    assert [t.id for t in client.get_teams()] == [workspace["team_id"]]
    with pytest.raises(Permanent) as bad:
        exchange_code(app["client_id"], "wrong-secret", code)
    assert "wrong-secret" not in str(bad.value) and app["client_secret"] not in str(bad.value)


def test_unauthorized_workspace_and_revoked_token(clickup: httpx.Client, app: dict, workspace: dict) -> None:
    other = clickup.post(
        "/_emulator/seed", json={"user_id": workspace["user"]["id"], "workspace": {"name": "Second"}}
    ).json()
    code = _authorize(clickup, app, workspace, [workspace["team_id"]])["code"][0]
    token = exchange_code(app["client_id"], app["client_secret"], code)
    client = ClickUpClient(token)
    with pytest.raises(WorkspaceNotAuthorized) as denied:
        client.get_spaces(other["team_id"])
    assert denied.value.ecode == "OAUTH_027"
    clickup.post(f"/_emulator/tokens/{token}/revoke")
    with pytest.raises(TokenRevoked) as revoked:
        client.get_user()
    assert revoked.value.ecode in {"OAUTH_019", "OAUTH_021", "OAUTH_025", "OAUTH_077"}
    assert token not in str(revoked.value) and token not in repr(client)


def test_denial_redirects_with_error(clickup: httpx.Client, app: dict, workspace: dict) -> None:
    query = _authorize(clickup, app, workspace, [], decision="deny")
    assert query == {"error": ["access_denied"], "state": ["st-1"]}


@pytest.mark.parametrize(
    ("params", "ecode"),
    [
        ({"client_id": "nope", "redirect_uri": REDIRECT}, "OAUTH_010"),
        ({"redirect_uri": "https://evil.example/cb"}, "OAUTH_007"),
        ({"redirect_uri": ""}, "OAUTH_017"),
    ],
)
def test_consent_errors(clickup: httpx.Client, app: dict, params: dict, ecode: str) -> None:
    response = clickup.get("/api", params={"client_id": app["client_id"], "state": "s", **params})
    assert response.status_code == 400 and ecode in response.text
