"""Reasons that tell the truth (issue 16, item 9): each way ClickUp can fail the OAuth callback's token exchange
or the reads after it sends the browser back with its own `reason` (retry now, later, or never), and the portal
routes that call ClickUp live answer each failure with its own code."""

from __future__ import annotations

import httpx
import pytest

from tests import flows


@pytest.fixture
def faults(clickup: httpx.Client):
    yield lambda rule: clickup.post("/_emulator/faults", json=rule).raise_for_status()
    clickup.delete("/_emulator/faults")


TOKEN = r"^/api/v2/oauth/token$"


@pytest.mark.parametrize(
    ("path", "status", "body", "reason"),
    [
        (TOKEN, 429, {"err": "Rate limit reached", "ECODE": "APP_002"}, "clickup_rate_limited"),
        (TOKEN, 503, None, "clickup_unavailable"),
        (TOKEN, 500, None, "clickup_unavailable"),
        (TOKEN, 401, {"err": "Code not found or already used", "ECODE": "OAUTH_015"}, "exchange_failed"),
        (TOKEN, 400, {"err": "Client not found", "ECODE": "OAUTH_010"}, "app_rejected"),
        (TOKEN, 401, {"err": "Client secret invalid", "ECODE": "OAUTH_011"}, "app_rejected"),
        (TOKEN, 400, {"err": "Redirect uri not passed", "ECODE": "OAUTH_017"}, "app_rejected"),
        (r"^/api/v2/user$", 503, None, "clickup_unavailable"),
        (r"^/api/v2/team$", 429, {"err": "Rate limit reached", "ECODE": "APP_002"}, "clickup_rate_limited"),
        (r"^/api/v2/user$", 401, {"err": "Oauth token not found", "ECODE": "OAUTH_019"}, "token_revoked"),
        (r"^/api/v2/team$", 401, {"err": "Team not authorized", "ECODE": "OAUTH_027"}, "workspace_not_authorized"),
        (r"^/api/v2/team$", 403, {"err": "Forbidden", "ECODE": "ACCESS_999"}, "clickup_refused"),
    ],
)
def test_the_callback_names_what_clickup_did(
    stack, api, clickup, auth, org_id, workspace, faults, path, status, body, reason
) -> None:
    faults({"action": "status", "status": status, "path": path, **({"body": body} if body else {})})
    result = flows.connect(stack, api, clickup, auth(), org_id, workspace["user"]["id"])
    assert result["clickup"] == ["error"] and result["reason"] == [reason], result
    if reason == "clickup_rate_limited":
        assert 1 <= int(result["retry_after"][0]) <= 61
    else:
        assert "retry_after" not in result
    assert api.get("/api/v1/clickup/connection", headers=auth()).json()["status"] == "not_connected"


@pytest.mark.parametrize(
    ("status", "body", "code", "http"),
    [
        (503, None, "clickup_unavailable", 503),
        (429, {"err": "Rate limit reached", "ECODE": "APP_002"}, "clickup_rate_limited", 429),
        (401, {"err": "Oauth token not found", "ECODE": "OAUTH_019"}, "token_invalid", 422),
    ],
)
def test_a_personal_token_check_names_what_clickup_did(api, auth, workspace, faults, status, body, code, http) -> None:
    faults({"action": "status", "status": status, "path": r"^/api/v2/user$", **({"body": body} if body else {})})
    answer = api.put("/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": workspace["token"]})
    assert answer.status_code == http and answer.json()["error"]["code"] == code, answer.text
    if http == 429:
        assert int(answer.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("path", "status", "body", "code"),
    [
        (r"^/api/v2/team$", 401, {"err": "Team not authorized", "ECODE": "OAUTH_027"}, "workspace_not_authorized"),
        (r"^/api/v2/team$", 403, {"err": "Forbidden", "ECODE": "ACCESS_999"}, "clickup_refused"),
    ],
)
def test_a_personal_token_refused_for_another_reason_is_not_called_invalid(
    api, auth, workspace, faults, path, status, body, code
) -> None:
    faults({"action": "status", "status": status, "path": path, "body": body})
    answer = api.put("/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": workspace["token"]})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == code, answer.text
    assert answer.json()["error"]["details"] == {"ecode": body["ECODE"]}


@pytest.mark.parametrize(
    ("status", "body", "result"),
    [(503, None, "unreachable"), (400, {"err": "Bad request", "ECODE": "INPUT_999"}, "refused")],
)
def test_the_connection_test_tells_an_outage_from_a_refusal(api, auth, workspace, faults, status, body, result) -> None:
    flows.connect_with_token(api, auth(), workspace["token"])
    faults(
        {
            "action": "status",
            "status": status,
            "path": r"^/api/v2/user$",
            "token": workspace["token"],
            **({"body": body} if body else {}),
        }
    )
    answer = api.post("/api/v1/clickup/connection/test", headers=auth())
    assert answer.status_code == 200 and answer.json()["result"] == result, answer.text
    assert str(status) in answer.json()["detail"]
