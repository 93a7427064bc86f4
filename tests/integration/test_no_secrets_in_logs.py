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


# -- the whole process at DEBUG: `LOG_LEVEL=DEBUG POWERTOOLS_LOG_LEVEL=DEBUG make dev` (issue 16 failure 7) ----------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _envelopes(value: object) -> list[dict]:
    """Every vault envelope (`{v, alg, key_id, purpose, edk, nonce, ct}`) anywhere in a plain item."""
    if isinstance(value, dict):
        if {"edk", "nonce", "ct", "purpose"} <= value.keys():
            return [value]
        return [e for v in value.values() for e in _envelopes(v)]
    if isinstance(value, list):
        return [e for v in value for e in _envelopes(v)]
    return []


def _vault_secrets(aws_endpoint: str) -> set[str]:
    """Every secret the vault holds, opened from the table: the plaintext (tokens, ClickUp webhook secrets, portal
    webhook secrets) and the data key that sealed it (base64 and hex)."""
    import base64

    import boto3
    from boto3.dynamodb.types import TypeDeserializer
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from infra import definitions as d
    from local.aws import CREDENTIALS, REGION

    creds = {k.lower(): v for k, v in CREDENTIALS.items()}
    ddb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION, **creds)
    kms = boto3.client("kms", endpoint_url=aws_endpoint, region_name=REGION, **creds)
    table = d.MAIN_TABLE.physical_name(d.LOCAL_STAGE)
    deserialize = TypeDeserializer().deserialize
    found: set[str] = set()
    for page in ddb.get_paginator("scan").paginate(TableName=table):
        for raw in page["Items"]:
            item = {k: deserialize(v) for k, v in raw.items()}
            org_id = str(item["pk"]).removeprefix("ORG#")
            for env in _envelopes(item):
                context = {"org_id": org_id, "purpose": env["purpose"]}
                key = kms.decrypt(CiphertextBlob=base64.b64decode(env["edk"]), EncryptionContext=context)["Plaintext"]
                aad = json.dumps(context, sort_keys=True, separators=(",", ":")).encode()
                plain = AESGCM(key).decrypt(base64.b64decode(env["nonce"]), base64.b64decode(env["ct"]), aad)
                found |= {plain.decode(), base64.b64encode(key).decode(), key.hex()}
    return found


def test_the_whole_dev_process_at_debug_never_logs_a_secret(tmp_path) -> None:
    """`clickup-bridge dev` (what `make dev` runs) at DEBUG, the local stack's own provisioning included: connect
    through OAuth, a personal token, a ticket into a task, a ClickUp change pushed back as a webhook, a portal push
    signed with the portal webhook secret, a disconnect. Its whole output holds no secret: the OAuth client secret,
    a token, a ClickUp webhook secret, a portal webhook secret, a data key (each collected from the vault itself)."""
    import os
    import signal
    import subprocess
    import sys
    import time
    import uuid
    from pathlib import Path

    import httpx

    from local.idp import LocalIdentityProvider

    ports = {"BRIDGE_API_PORT": _free_port(), "CLICKUP_EMULATOR_PORT": _free_port(), "AWS_EMULATOR_PORT": _free_port()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "BRIDGE_STATE_DIR": str(tmp_path)}
    env.update({"LOG_LEVEL": "DEBUG", "POWERTOOLS_LOG_LEVEL": "DEBUG"})
    for leaked in ("AWS_ENDPOINT_URL", "TABLE_NAME"):
        env.pop(leaked, None)
    log_path = tmp_path / "dev.log"
    base = f"http://127.0.0.1:{ports['BRIDGE_API_PORT']}"
    emu = f"http://127.0.0.1:{ports['CLICKUP_EMULATOR_PORT']}"
    secrets: set[str] = {DEMO_CLIENT_SECRET}
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "clickup-bridge"), "dev"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            api = httpx.Client(base_url=base, timeout=30)
            clickup = httpx.Client(base_url=emu, timeout=30)

            def until(predicate, timeout_s: float = 60.0):
                deadline = time.monotonic() + timeout_s
                while True:
                    try:
                        value = predicate()
                    except httpx.TransportError:
                        value = None
                    if value:
                        return value
                    assert process.poll() is None, log_path.read_text()[-3000:]
                    assert time.monotonic() < deadline, "condition not met"
                    time.sleep(0.2)

            until(lambda: api.get("/health").status_code == 200)
            org = f"org-{uuid.uuid4().hex[:8]}"
            admin = {"Authorization": f"Bearer {LocalIdentityProvider(tmp_path).mint(org, user='u1', role='admin')}"}
            started = flows.start(api, admin, f"{base}/_local/portal?org={org}")
            assert started.status_code == 200, started.text
            landed = flows.follow_callback(api, flows.consent(clickup, started.json()["authorize_url"]))
            assert landed.get("clickup") == ["connected"], landed
            spaces = until(
                lambda: (s := api.get("/api/v1/clickup/spaces", headers=admin).json()).get("synced_at") and s
            )
            space = next(s for s in spaces["spaces"] if s["lists"] or s["folders"])
            secret = api.post("/api/v1/clickup/portal-webhook/secret", headers=admin).json()["secret"]
            secrets.add(secret)
            put = api.put(
                "/api/v1/clickup/settings", headers=admin, json={"portal_webhook_url": f"{base}/_local/portal/events"}
            )
            assert put.status_code == 200, put.text
            assigned = api.put("/api/v1/customers/c1/clickup-space", headers=admin, json={"space_id": space["id"]})
            assert assigned.status_code == 200, assigned.text
            ticket = str(uuid.uuid4())
            posted = api.post(
                f"/api/v1/tickets/{ticket}/clickup-task",
                headers=admin,
                json={"title": "secret-free", "priority": "high", "customer_id": "c1"},
            )
            assert posted.status_code == 202, posted.text
            link = until(
                lambda: (
                    (x := api.get(f"/api/v1/tickets/{ticket}/clickup-task", headers=admin).json()).get("task_id") and x
                )
            )
            acted = clickup.post(
                "/_emulator/act", json={"action": "set_priority", "task_id": link["task_id"], "priority": 4}
            )
            assert acted.status_code == 200, acted.text
            until(
                lambda: any(
                    json.loads(e["body"])["type"] == "clickup.task.priority_changed"
                    for e in api.get("/_local/portal/events", params={"org": org}).json()["received"]
                )
            )
            secrets |= _vault_secrets(f"http://127.0.0.1:{ports['AWS_EMULATOR_PORT']}")
            assert api.delete("/clickup/oauth/disconnect", headers=admin).status_code == 204
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
    output = log_path.read_text()
    assert len(secrets) >= 8, "client secret, portal secret, the OAuth token, a webhook secret, their data keys"
    assert '"level":"DEBUG"' in output and "clickup call" in output, "the run logged at DEBUG, the handlers included"
    leaks = sorted({s[:6] + "…" for s in secrets if s in output})
    assert leaks == [], f"secrets in the DEBUG log of the dev process: {leaks}"
