"""What each function really calls, recorded on the local stack, stays within what the stack grants it
(infra/definitions.py: TABLE_ACTIONS and VAULT_PURPOSES, which tests/infra/test_operations.py ties to the template).

The local stack does not enforce IAM, so a function calling an action its role lacks would pass every other test
and fail on AWS with AccessDenied: this test records every DynamoDB and KMS call per function during the main flows
(connect, sync, ticket → task, ClickUp change → webhook → processor → portal push, sweep, health, disconnect).
Each function's execution environments have their own `bridge` package (local/runtime.py), so each unwraps its own
data keys: a KMS call is recorded for the function that needs the key.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import botocore.client
import pytest

from infra import definitions as d
from local.stack import LocalStack
from tests.conftest import drop_and_drain, healthy, wait_for
from tests.integration.test_webhooks import _act, _created_task, _delivered, _hook, _ready

# DynamoDB's API operations → the IAM actions they need (DynamoDB Developer Guide, "DynamoDB API permissions";
# a transaction needs each part's action, a condition check needs ConditionCheckItem).
_TRANSACT_PARTS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


class CallRecorder:
    """Per function: the IAM actions of its DynamoDB calls and the vault purposes of its KMS calls. A call is the
    function's when it is made on one of its execution environments' threads (`lambda:{function}:{n}`,
    local/runtime.py: an environment serves its invocations on its own thread)."""

    def __init__(self) -> None:
        self.table: dict[str, set[str]] = defaultdict(set)
        self.kms: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self.events: set[str] = set()  # functions that put events on the bus

    @staticmethod
    def function() -> str | None:
        name = threading.current_thread().name
        return name.split(":")[1] if name.startswith("lambda:") else None

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        fn = self.function()
        if fn is None:
            return
        if service == "dynamodb":
            if operation == "TransactWriteItems":
                for item in params.get("TransactItems", []):
                    self.table[fn].update(_TRANSACT_PARTS[part] for part in item)
            else:
                self.table[fn].add(f"dynamodb:{operation}")
        elif service == "kms":
            purpose = (params.get("EncryptionContext") or {}).get("purpose", "")
            self.kms[fn].add((f"kms:{operation}", purpose))
        elif service == "events" and operation == "PutEvents":
            self.events.add(fn)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[CallRecorder]:
    rec = CallRecorder()
    make_api_call = botocore.client.BaseClient._make_api_call

    def calling(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        rec.record(self.meta.service_model.service_name, operation_name, api_params)
        return make_api_call(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", calling)
    yield rec


def test_each_function_calls_only_what_its_role_grants(
    recorder: CallRecorder, stack: LocalStack, api, auth, clickup, workspace, org_id
) -> None:
    _ready(api, auth, workspace)  # oauth: token and webhook secret sealed; space_sync: the first sync
    assert api.post("/api/v1/clickup/portal-webhook/secret", headers=auth()).status_code == 200
    current = api.get("/api/v1/clickup/settings", headers=auth()).json()
    receiver = f"{stack.api_url}/_local/portal/events"
    assert api.put("/api/v1/clickup/settings", headers=auth(), json={**current, "portal_webhook_url": receiver})
    task_id = _created_task(api, auth, clickup, str(uuid.uuid4()))["task_id"]  # api → task_create
    # api reads ClickUp with the organisation's token (a task being linked, a list's custom fields) and publishes
    # the link's events (issue 19)
    inbox = next(s for s in workspace["spaces"] if s["name"] == "Support")["lists"][0]["id"]
    existing = clickup.post(
        f"/api/v2/list/{inbox}/task", headers={"Authorization": workspace["token"]}, json={"name": "Existing"}
    ).json()
    ticket = str(uuid.uuid4())
    linked = api.put(f"/api/v1/tickets/{ticket}/clickup-task/link", headers=auth(), json={"task_id": existing["id"]})
    assert linked.status_code == 201, linked.text
    assert api.get(f"/api/v1/clickup/lists/{inbox}/fields", headers=auth()).status_code == 200
    assert api.delete(f"/api/v1/tickets/{ticket}/clickup-task", headers=auth()).status_code == 204
    _act(clickup, workspace, action="set_status", task_id=task_id, status="done")  # webhook → processor → push
    _delivered(clickup, _hook(clickup, workspace)["id"])
    wait_for(lambda: api.get("/_local/portal/events", params={"org": org_id}).json()["received"], timeout_s=40)
    assert stack.schedules is not None
    for tick in ("reconcile-tick", "webhook-health-tick"):
        stack.schedules.fire(tick)
    wait_for(lambda: "maintenance" in recorder.table, timeout_s=30)
    # The ticks queued a sweep and a health check for every organisation the session connected (hundreds by now):
    # this test needed its own; the rest is dropped and what is in flight ends here, not in the next tests.
    drop_and_drain(stack, "maintenance")
    assert healthy(api).status_code == 200
    assert api.delete("/clickup/oauth/disconnect", headers=auth(), params={"purge": "true"}).status_code == 204

    for fn, actions in recorder.table.items():
        assert actions <= set(d.TABLE_ACTIONS[fn]), f"{fn} calls {sorted(actions - set(d.TABLE_ACTIONS[fn]))}"
    for fn, calls in recorder.kms.items():
        purposes = d.VAULT_PURPOSES.get(fn, {"seal": (), "open": ()})
        for action, purpose in calls:
            if action == "kms:DescribeKey":
                assert "tokens:describe" in d.function(fn).grants, fn
            elif action == "kms:GenerateDataKey":
                assert purpose in purposes["seal"], f"{fn} seals {purpose}"
            elif action == "kms:Decrypt":
                assert purpose in purposes["open"], f"{fn} opens {purpose}"
            else:
                raise AssertionError(f"{fn} calls {action}")
    for fn in recorder.events:
        assert "bus:put" in d.function(fn).grants, f"{fn} puts events on the bus"
    # The flows did run through every function that opens something (the recording is not empty by accident).
    assert ("kms:Decrypt", "clickup-token") in recorder.kms["api"]
    assert {"api", "task_create", "webhook_process"} <= recorder.events
    assert ("kms:Decrypt", "clickup-webhook-secret") in recorder.kms["webhook"]
    assert ("kms:Decrypt", "portal-webhook-secret") in recorder.kms["portal_delivery"]
    assert ("kms:GenerateDataKey", "clickup-token") in recorder.kms["oauth"]
    assert {"api", "oauth", "space_sync", "task_create", "webhook", "webhook_process", "portal_delivery"} <= set(
        recorder.table
    )
