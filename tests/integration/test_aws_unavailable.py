"""DynamoDB, SQS or KMS briefly unavailable (a read timeout, a throttle past botocore's retries, a transaction
cancelled by another's conflict) is not a defect: the API answers 503 `aws_unavailable` with `Retry-After`, never
500, and a request whose write landed but whose answer was lost heals when the portal repeats it."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from tests.conftest import wait_for
from tests.integration.test_webhooks import _inbox, _ready

FAULTS: dict[str, Callable[[], Exception]] = {
    "read_timeout": lambda: ReadTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/"),
    "throttled": lambda: ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "GetItem"
    ),
    "transaction_conflict": lambda: ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled [TransactionConflict]"},
            "CancellationReasons": [{"Code": "TransactionConflict", "Message": "conflict"}],
        },
        "TransactWriteItems",
    ),
}


class _Unavailable:
    """Stands in for the DynamoDB Table resource and client: every call raises the fault."""

    def __init__(self, fault: Callable[[], Exception]) -> None:
        self._fault = fault

    def __getattr__(self, name: str) -> Any:
        def call(*_: Any, **__: Any) -> Any:
            raise self._fault()

        return call


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_dynamodb_unavailable_is_a_503_the_portal_may_repeat(
    api: httpx.Client, auth, workspace, patch_function, fault: str
) -> None:
    _ready(api, auth, workspace)
    make = FAULTS[fault]
    patch_function("api", "bridge.core.aws", "table", lambda _original: lambda _name: _Unavailable(make))

    def client(original: Any) -> Any:
        return lambda service: _Unavailable(make) if service == "dynamodb" else original(service)

    patch_function("api", "bridge.core.aws", "client", client)
    for method, path, body in (
        ("GET", f"/api/v1/tickets/{uuid.uuid4()}/clickup-task", None),  # the link: a consistent read
        ("GET", "/api/v1/clickup/events", None),
        (
            "POST",
            f"/api/v1/tickets/{uuid.uuid4()}/clickup-task",
            {"title": "t", "priority": "low", "customer_id": "cust-1"},
        ),
    ):
        answer = api.request(method, path, headers=auth(), json=body)
        assert answer.status_code == 503, (path, answer.text)
        assert answer.json()["error"]["code"] == "aws_unavailable", answer.text
        assert answer.headers["Retry-After"] == "1"
        assert "Traceback" not in answer.text and "botocore" not in answer.text


def test_a_ticket_whose_answer_was_lost_after_its_link_was_written_is_created_when_the_portal_repeats(
    api: httpx.Client, auth, clickup: httpx.Client, workspace, patch_function
) -> None:
    """The link lands, then DynamoDB's answer is lost (the POST answers 503, and no creation was queued): the
    portal's repeat answers 200 with the link and the task is created, once."""
    _ready(api, auth, workspace)
    ticket_id = str(uuid.uuid4())
    lost: list[bool] = []

    def lose_the_first_answer(original: Any) -> Any:
        def create(*args: Any, **kwargs: Any) -> Any:
            written = original(*args, **kwargs)
            if not lost:
                lost.append(True)
                raise FAULTS["read_timeout"]()
            return written

        return create

    patch_function("api", "bridge.repositories.ticket_links", "create", lose_the_first_answer)
    body = {"title": "Lost answer", "priority": "high", "customer_id": "cust-1"}
    first = api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=body)
    assert (first.status_code, first.json()["error"]["code"]) == (503, "aws_unavailable"), first.text
    assert api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()["state"] == "queued"
    again = api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth(), json=body)
    assert again.status_code == 200, again.text
    link = wait_for(
        lambda: (lambda b: b if b.get("state") == "created" else None)(
            api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()
        ),
        timeout_s=30,
    )
    tasks = clickup.get(
        f"/api/v2/list/{_inbox(workspace)['id']}/task", headers={"Authorization": workspace["token"]}
    ).json()["tasks"]
    mine = [t for t in tasks if t["name"].startswith(f"[TICKET-{ticket_id}]")]
    assert [t["id"] for t in mine] == [link["task_id"]]


def test_kms_unavailable_is_a_503_not_a_refusal(api: httpx.Client, auth, workspace, patch_function) -> None:
    """KMS timing out while the organisation's token is opened is not "KMS refused" (a VaultError, 500): 503
    `aws_unavailable`, and the same request works once KMS answers."""
    _ready(api, auth, workspace)
    list_id = _inbox(workspace)["id"]

    def client(original: Any) -> Any:
        return lambda service: _Unavailable(FAULTS["read_timeout"]) if service == "kms" else original(service)

    patch_function("api", "bridge.vault.envelope", "_cache", lambda original: type(original)())  # nothing unwrapped
    patch_function("api", "bridge.core.aws", "client", client)
    answer = api.get(f"/api/v1/clickup/lists/{list_id}/fields", headers=auth())
    assert (answer.status_code, answer.json()["error"]["code"]) == (503, "aws_unavailable"), answer.text


class _Stalled:
    """An AWS client whose every call hangs longer than any deadline the bridge keeps (a stalled endpoint)."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    def __getattr__(self, name: str) -> Any:
        def call(*_: Any, **__: Any) -> Any:
            time.sleep(self._seconds)
            raise FAULTS["read_timeout"]()

        return call


def test_health_answers_degraded_in_seconds_when_aws_stalls(api: httpx.Client, patch_function) -> None:
    """The probes run at once under one deadline: 503 `degraded` naming each stalled dependency, well within API
    Gateway's 30 s (each probe's SDK retries in turn ran the function past its timeout: a 500)."""
    patch_function("api", "bridge.core.aws", "client", lambda _original: lambda _service: _Stalled(12))
    started = time.monotonic()
    answer = api.get("/health")
    took = time.monotonic() - started
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["status"] == "degraded"
    assert {d["name"]: d["status"] for d in body["dependencies"]} == {
        "dynamodb": "unavailable",
        "kms": "unavailable",
        "sqs": "unavailable",
    }
    assert {"setting": "CLICKUP_CLIENT_SECRET", "problem": "unverifiable"} in body["configuration"]
    assert took < 12, took


def test_a_delivery_while_sqs_is_unavailable_is_503_which_clickup_retries(
    api: httpx.Client, auth, clickup: httpx.Client, workspace, patch_function
) -> None:
    """The webhook's edge maps a transient AWS failure to 503 `aws_unavailable` (ClickUp retries any 5xx), not a
    500 `internal_error`; its AWS calls are bounded to fail within the function's 10 s."""
    _ready(api, auth, workspace)

    def client(original: Any) -> Any:
        return lambda service: _Unavailable(FAULTS["read_timeout"]) if service == "sqs" else original(service)

    patch_function("webhook", "bridge.core.aws", "client", client)
    hooks = clickup.get("/_emulator/webhooks").json()["webhooks"]
    hook = next(h for h in hooks if str(h["team_id"]) == str(workspace["team_id"]))
    raw = json.dumps({"webhook_id": hook["id"], "event": "taskUpdated", "task_id": "abc", "history_items": []}).encode()
    signature = hmac.new(hook["secret"].encode(), raw, hashlib.sha256).hexdigest()
    answer = api.post("/webhooks/clickup", content=raw, headers={"X-Signature": signature})
    assert (answer.status_code, answer.json()["error"]["code"]) == (503, "aws_unavailable"), answer.text
    assert answer.headers["Retry-After"] == "1"
