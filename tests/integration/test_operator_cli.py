"""The operator commands (issue 20) on the local stack addressed as a stage: `--stage local --endpoint-url <moto>`,
the same code path as against AWS (resource names from infra/definitions.py), invoked in-process through click's
test runner."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from infra import definitions as d
from local import cli
from local.stack import LocalStack
from tests.conftest import send, wait_for
from tests.flows import connected_org


def run(stack: LocalStack, *args: str, ok: bool = True) -> Result:
    """`clickup-bridge ARGS --stage local --endpoint-url <moto>`; with `ok` the exit status must be 0."""
    result = CliRunner().invoke(
        cli.cli, [*args, "--stage", stack.config.stage, "--endpoint-url", stack.aws.endpoint], catch_exceptions=False
    )
    if ok:
        assert result.exit_code == 0, result.output
    return result


def as_json(stack: LocalStack, *args: str) -> Any:
    # The stack's functions run in this process: their EMF metric lines land in the captured stdout too.
    out = "\n".join(line for line in run(stack, *args, "--json").stdout.splitlines() if not line.startswith('{"_aws"'))
    try:
        return json.loads(out)
    except ValueError:
        raise AssertionError(f"not JSON: {out[:600]}") from None


def _table(stack: LocalStack) -> Any:
    import boto3

    env = stack.environment()
    return boto3.resource("dynamodb", endpoint_url=stack.aws.endpoint, region_name=env["AWS_REGION"]).Table(
        env["TABLE_NAME"]
    )


def _all_rows(stack: LocalStack) -> list[dict[str, Any]]:
    table, items, kwargs = _table(stack), [], {}
    while True:
        page = table.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _push_to_local_portal(stack: LocalStack, api: httpx.Client, org: str) -> None:
    auth = {"Authorization": f"Bearer {stack.token(org)}"}
    assert api.post("/api/v1/clickup/portal-webhook/secret", headers=auth).status_code == 200
    current = api.get("/api/v1/clickup/settings", headers=auth).json()
    url = f"{stack.api_url}/_local/portal/events"
    saved = api.put("/api/v1/clickup/settings", headers=auth, json={**current, "portal_webhook_url": url})
    assert saved.status_code == 200, saved.text


def _portal_event(org: str) -> dict[str, Any]:
    """A portal event as the EventBridge rule puts it on portal-events (the event is the envelope's detail)."""
    event = {
        "id": f"evt-{uuid.uuid4().hex}",
        "type": "clickup.task.status_changed",
        "org_id": org,
        "ticket_id": str(uuid.uuid4()),
        "task_id": "task-1",
        "data": {
            "status": "done",
            "previous": "open",
            "changed_at": "2026-12-01T00:00:00Z",
            "by": "clickup",
            "current": True,
        },
        "occurred_at": "2026-12-01T00:00:00Z",
    }
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": event["type"],
        "source": "clickup-bridge",
        "account": "123456789012",
        "time": "2026-12-01T00:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": event,
    }


def _dead(stack: LocalStack, queue: str, org: str, count: int = 1) -> list[dict[str, Any]]:
    """Wait until `count` messages of `org` are in `queue`'s DLQ (as `dlq show --org` reports them)."""
    return list(
        wait_for(
            lambda: (rows := as_json(stack, "dlq", "show", queue, "--org", org)) and len(rows) >= count and rows,
            timeout_s=60,
            interval_s=0.5,
        )
    )


def _received(stack: LocalStack, event_id: str) -> int:
    return sum(1 for r in list(stack.portal.received) if r["event_id"] == event_id)


def test_help_has_an_example_and_failures_are_one_line(stack: LocalStack) -> None:
    for command in (["orgs", "list"], ["org", "show"], ["dlq", "redrive"], ["events", "replay"], ["org", "erase"]):
        result = CliRunner().invoke(cli.cli, [*command, "--help"])
        assert result.exit_code == 0 and "Example: clickup-bridge " in result.output, command
    unknown = run(stack, "dlq", "show", "no-such-queue", ok=False)
    assert unknown.exit_code == 1
    assert unknown.stderr.strip().splitlines() == [
        "error: unknown queue 'no-such-queue': one of " + ", ".join(q.name for q in d.QUEUES)
    ]
    missing = run(stack, "org", "show", f"org-{uuid.uuid4().hex[:8]}", ok=False)
    assert missing.exit_code == 1 and len(missing.stderr.strip().splitlines()) == 1
    assert "Traceback" not in missing.output


def test_a_poison_message_is_explained_in_the_dlq(stack: LocalStack) -> None:
    org = f"org-{uuid.uuid4().hex[:10]}"
    poison = _portal_event(org)
    del poison["detail"]["id"]  # the worker refuses it at every receive, until the DLQ
    message_id = send(stack, "portal-events", poison)

    rows = _dead(stack, "portal-events", org)

    assert [r["message_id"] for r in rows] == [message_id]
    assert rows[0]["receive_count"] >= d.queue("portal-events").max_receive_count  # exhausted its receives
    assert rows[0]["reason"] == "not a portal event: an EventBridge event whose detail has an id and an org_id"
    assert rows[0]["body"] == poison  # decoded
    listed = {r["queue"]: r for r in as_json(stack, "dlq", "list")}
    assert listed["portal-events"]["visible"] >= 1
    assert listed["portal-events"]["dlq"] == d.queue("portal-events").dlq_physical_name(stack.config.stage)
    human = run(stack, "dlq", "show", "portal-events", "--org", org).stdout
    assert message_id in human and "not a portal event" in human
    # The last error the consumer logged for it (CloudWatch Logs: the function's log group, by message id).
    logs = stack.aws.client("logs")
    group = f"/aws/lambda/{d.function('portal_delivery').physical_name(stack.config.stage)}"
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    stream = uuid.uuid4().hex
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    line = json.dumps({"level": "ERROR", "message": "ValueError: not a portal event", "message_id": message_id})
    logs.put_log_events(
        logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": int(time.time() * 1000), "message": line}]
    )
    assert [r["last_error"] for r in as_json(stack, "dlq", "show", "portal-events", "--org", org)] == [line]
    # Shown, not consumed: still there for the next operator.
    assert [r["message_id"] for r in as_json(stack, "dlq", "show", "portal-events", "--org", org)] == [message_id]


def _swap_portal_secrets(stack: LocalStack, a: str, b: str) -> None:
    """Each organisation's portal signing secret replaced by the other's envelope: neither opens (the vault binds
    an envelope to its organisation), so the delivery of each one's events fails until its DLQ."""
    table = _table(stack)
    rows = {o: table.get_item(Key={"pk": f"ORG#{o}", "sk": "PORTAL_WEBHOOK"})["Item"] for o in (a, b)}
    for mine, theirs in ((a, b), (b, a)):
        table.put_item(Item={**rows[mine], "secret": rows[theirs]["secret"]})


def test_redrive_of_one_org_completes_once_and_leaves_the_others(stack: LocalStack, api: httpx.Client) -> None:
    a, b = (f"org-{uuid.uuid4().hex[:10]}" for _ in range(2))
    for org in (a, b):
        _push_to_local_portal(stack, api, org)
    assert _table(stack).get_item(Key={"pk": f"ORG#{a}", "sk": "PORTAL_WEBHOOK"}).get("Item"), "row name changed"
    _swap_portal_secrets(stack, a, b)
    events = {org: _portal_event(org) for org in (a, b)}
    ids = {org: send(stack, "portal-events", body) for org, body in events.items()}
    dead = {org: _dead(stack, "portal-events", org) for org in (a, b)}
    assert {org: [r["message_id"] for r in rows] for org, rows in dead.items()} == {a: [ids[a]], b: [ids[b]]}
    shown = json.dumps(dead)
    assert '"edk"' not in shown and '"ct"' not in shown
    assert _received(stack, events[a]["detail"]["id"]) == 0

    # The fix: a's portal gets a new signing secret (b's stays broken).
    _push_to_local_portal(stack, api, a)
    redriven = as_json(stack, "dlq", "redrive", "portal-events", "--org", a)

    assert redriven["redriven"] == [ids[a]]
    wait_for(lambda: _received(stack, events[a]["detail"]["id"]) == 1, timeout_s=30)
    time.sleep(2)  # longer than a visibility timeout here: a second delivery would have happened
    assert _received(stack, events[a]["detail"]["id"]) == 1
    assert as_json(stack, "dlq", "show", "portal-events", "--org", a) == []
    assert [r["message_id"] for r in as_json(stack, "dlq", "show", "portal-events", "--org", b)] == [ids[b]]
    # An id that is not there is refused (nothing moved).
    absent = run(stack, "dlq", "redrive", "portal-events", "--ids", "no-such-id", ok=False)
    assert absent.exit_code == 1 and "no-such-id" in absent.stderr
    assert [r["message_id"] for r in as_json(stack, "dlq", "show", "portal-events", "--org", b)] == [ids[b]]


def test_redrive_to_a_fifo_queue_keeps_the_group(stack: LocalStack) -> None:
    """A FIFO DLQ's message goes back with its group id and a deduplication id (a FIFO queue refuses it without)."""
    org = f"org-{uuid.uuid4().hex[:10]}"
    sqs = stack.aws.client("sqs")
    dlq = sqs.get_queue_url(QueueName=d.queue("maintenance").dlq_physical_name(stack.config.stage))["QueueUrl"]
    body = {"kind": "sweep", "org_id": org}  # not connected: the worker does nothing with it, once
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps(body), MessageGroupId=org, MessageDeduplicationId="x1")
    shown = as_json(stack, "dlq", "show", "maintenance", "--org", org)
    assert [(r["group_id"], r["body"], r["reason"]) for r in shown] == [(org, body, None)]

    redriven = as_json(stack, "dlq", "redrive", "maintenance", "--ids", shown[0]["message_id"])

    assert redriven["redriven"] == [shown[0]["message_id"]]
    assert as_json(stack, "dlq", "show", "maintenance", "--org", org) == []


def test_events_replay_delivers_the_same_ids_again(stack: LocalStack, api: httpx.Client, clickup: httpx.Client) -> None:
    flow = connected_org(stack, api, clickup)
    org = flow["org"]
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600))
    feed = wait_for(lambda: api.get("/api/v1/clickup/events", headers=flow["auth"]()).json()["events"], timeout_s=30)
    _push_to_local_portal(stack, api, org)
    before = {e["id"]: _received(stack, e["id"]) for e in feed}

    replayed = as_json(stack, "events", "replay", org, "--since", since)

    assert set(replayed["replayed"]) >= {e["id"] for e in feed}
    for event in feed:
        wait_for(lambda e=event: _received(stack, e["id"]) == before[e["id"]] + 1, timeout_s=30)
    pushed = [json.loads(str(r["body"])) for r in list(stack.portal.received) if r["event_id"] in before]
    assert {p["id"] for p in pushed} == set(before) and all(p["org_id"] == org for p in pushed)
    bad = run(stack, "events", "replay", org, "--since", "yesterday", ok=False)
    assert bad.exit_code == 1 and "--since 'yesterday'" in bad.stderr


def test_org_show_export_and_erase(stack: LocalStack, api: httpx.Client, clickup: httpx.Client) -> None:
    flow = connected_org(stack, api, clickup)
    org = flow["org"]
    _push_to_local_portal(stack, api, org)
    wait_for(
        lambda: api.get(f"/api/v1/tickets/{flow['ticket']}/clickup-task", headers=flow["auth"]()).json().get("task_id"),
        timeout_s=30,
    )
    hooks = [
        h
        for h in clickup.get("/_emulator/webhooks").json()["webhooks"]
        if str(h.get("team_id")) == str(flow["team_id"])
    ]
    assert hooks, "the connection registered its webhook"

    assert org in {r["org_id"] for r in as_json(stack, "orgs", "list")}
    shown = as_json(stack, "org", "show", org)
    assert shown["connection"]["status"] == "connected" and shown["connection"]["mode"] == "personal_token"
    assert [w["id"] for w in shown["workspaces"]] == [str(flow["team_id"])]
    assert [h["webhook_id"] for h in shown["webhooks"]] == [h["id"] for h in hooks]
    assert shown["links"] == {"created": 1} and shown["last_sync_at"]
    assert set(shown["dead_letters"]) == {q.name for q in d.QUEUES}
    assert flow["token"] not in json.dumps(shown) and '"edk"' not in json.dumps(shown)

    exported = as_json(stack, "org", "export", org)
    text = json.dumps(exported)
    assert flow["token"] not in text and '"edk"' not in text and '"ct":' not in text
    kinds = set(exported["kinds"])
    assert {
        "CONNECTION",
        "WEBHOOK",
        "TICKET",
        "HIER",
        "SETTINGS",
        "PORTAL_WEBHOOK",
        "EVENT",
        "TASK",
        "ORGS",
    } <= kinds, kinds
    assert len(exported["rows"]) == sum(exported["kinds"].values())

    refused = run(stack, "org", "erase", org, "--confirm", "someone-else", ok=False)
    assert refused.exit_code == 1 and as_json(stack, "org", "show", org)["connection"]["status"] == "connected"
    erased = as_json(stack, "org", "erase", org, "--confirm", org)

    # the webhook rows went with the webhooks (unregister_all); every other row by the erasure
    assert 0 < erased["rows_deleted"] < len(exported["rows"]) and erased["secrets_shredded"] >= 2
    assert [w["outcome"] for w in erased["webhooks"]] == ["deleted"]
    left = [r for r in _all_rows(stack) if org in json.dumps(r, default=str) and r["pk"] != "ERASURES"]
    assert left == []
    remaining = {h["id"] for h in clickup.get("/_emulator/webhooks").json()["webhooks"]}
    assert not remaining & {h["id"] for h in hooks}
    record = [r for r in _all_rows(stack) if r["pk"] == "ERASURES" and r.get("org_id_erased") == org]
    assert len(record) == 1 and record[0]["erased_by"] and record[0]["erased_at"]
    gone = run(stack, "org", "show", org, ok=False)
    assert gone.exit_code == 1


@pytest.mark.parametrize("command", [("sync",), ("sweep",), ("webhooks", "repair")])
def test_org_sync_sweep_and_webhooks_repair_queue_the_schedules_work_and_wait(
    stack: LocalStack, api: httpx.Client, clickup: httpx.Client, command: tuple[str, ...]
) -> None:
    flow = connected_org(stack, api, clickup)
    before = time.time()
    done = as_json(stack, "org", *command, flow["org"], "--wait", "--timeout", "60")
    assert done["done"] is True and done["queue"].startswith(f"clickup-bridge-{stack.config.stage}-")
    if command == ("webhooks", "repair"):  # every webhook checked at ClickUp after the command
        hooks = as_json(stack, "org", "show", flow["org"])["webhooks"]
        since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(before))
        assert hooks and all(h["checked_at"] >= since and h["health"] == "active" for h in hooks), hooks
    unknown = run(stack, "org", *command, f"org-{uuid.uuid4().hex[:8]}", ok=False)
    assert unknown.exit_code == 1 and "not connected" in unknown.stderr
