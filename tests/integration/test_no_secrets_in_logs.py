"""With DEBUG logging, the connection flows never log a token or a secret (nor put them in responses or events)."""

from __future__ import annotations

import json
import logging

from bridge.core.observability import logger as bridge_logger
from local.emulator.seed import DEMO_CLIENT_SECRET
from tests import flows


def test_connection_flows_never_log_secrets(
    stack, api, clickup, auth, org_id, workspace, emulator, capsys, caplog
) -> None:
    bridge_logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []
    try:
        flows.connect(stack, api, clickup, auth(), org_id, workspace["user"]["id"])
        for method, path in (
            ("GET", "/api/v1/clickup/connection"),
            ("POST", "/api/v1/clickup/connection/test"),
            ("GET", "/api/v1/clickup/settings"),
        ):
            bodies.append(api.request(method, path, headers=auth()).text)
        oauth_token = next(
            t.value
            for t in emulator.backend.tokens.values()
            if t.user_id == workspace["user"]["id"] and t.kind == "oauth"
        )
        secret = next(h.secret for h in emulator.backend.webhooks.values() if h.team_id == workspace["team_id"])
        bodies.append(
            api.put(
                "/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": workspace["token"]}
            ).text
        )
        clickup.post(f"/_emulator/tokens/{workspace['token_id']}/revoke")
        bodies.append(api.post("/api/v1/clickup/connection/test", headers=auth()).text)
        bodies.append(
            api.put(
                "/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": workspace["token"]}
            ).text
        )
        bodies.append(str(api.delete("/clickup/oauth/disconnect", headers=auth()).status_code))
    finally:
        bridge_logger.setLevel(logging.INFO)
    captured = capsys.readouterr()
    lines = captured.out.splitlines() + captured.err.splitlines() + [r.getMessage() for r in caplog.records]
    lines += [json.dumps(getattr(r, "__dict__", {}), default=str) for r in caplog.records]
    assert len(lines) > 20, "the flows should have logged (DEBUG) plenty"
    assert any("clickup call" in line for line in lines), "DEBUG lines of the client were captured"
    events = [
        i
        for i in stack.aws.client("dynamodb").scan(TableName=stack.environment()["TABLE_NAME"])["Items"]
        if i["sk"]["S"].startswith("EVENT#") and i["pk"]["S"] == f"ORG#{org_id}"
    ]
    haystacks = lines + bodies + [json.dumps(events)]
    for secret_value in (oauth_token, secret, workspace["token"], DEMO_CLIENT_SECRET):
        leaks = [h for h in haystacks if secret_value in h]
        assert leaks == [], f"a secret leaked into {len(leaks)} line(s)"
