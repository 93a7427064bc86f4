"""Operator commands on one organisation and on the dead-letter queues (issue 20).

`clickup-bridge orgs|org|dlq|events …` (local/cli.py) call these. Like `infra/operate.py` they address a stage by
name: every resource name comes from `infra/definitions.py` (the declaration the CDK stack and the local stack
read), and boto3 talks to AWS with the caller's credentials, or to another endpoint (`endpoint_url`, e.g. the local
stack's moto). No secret ever leaves this module: every row is passed through `redact` before it is returned.

Shapes: rows are DynamoDB items as plain JSON (numbers as int/float); times are UTC; `*_ms` are milliseconds since
the epoch. Errors: `OperateError` (one line, what to do), never a stack trace for an operator mistake.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from infra import definitions as d
from infra.operate import OperateError

REDACTED = "[redacted]"
# Attribute names that hold a secret or a vault envelope (bridge/vault/envelope.py) in any row of the table.
SECRET_KEYS = frozenset({"token", "secret", "secrets", "client_secret", "access_token", "refresh_token", "envelope"})
ERASURES_PK = "ERASURES"  # `ERASURES` / `{when}#{org}`: who erased which organisation, when (outlives the org)
ON_ERROR = Callable[[str], None]


def redact(value: Any) -> Any:
    """`value` with every secret replaced by "[redacted]": attributes named as secrets (SECRET_KEYS) and any vault
    envelope (a dict with `edk` and `ct`) wherever it sits, recursively."""
    if isinstance(value, dict):
        if "edk" in value and "ct" in value:
            return REDACTED
        return {k: (REDACTED if k in SECRET_KEYS and v is not None else redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [redact(v) for v in (sorted(value) if isinstance(value, set) else value)]
    return value


def redact_text(text: str) -> str:
    """A logged line with any JSON secret in it redacted (the functions never log one; this is a second guard)."""
    try:
        return json.dumps(redact(json.loads(text)))
    except ValueError:
        return text


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, bytes):
        return REDACTED
    return value


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def local_credentials(endpoint_url: str | None) -> dict[str, str]:
    """Placeholder credentials for the local stack (an endpoint on loopback, which accepts any) when none are
    configured, so the operator commands work against `make dev` without an AWS profile; `{}` otherwise (a real
    endpoint always uses the person's own credentials)."""
    from urllib.parse import urlsplit

    if not endpoint_url or (urlsplit(endpoint_url).hostname or "") not in _LOOPBACK_HOSTS:
        return {}
    import boto3

    try:
        configured = boto3.session.Session().get_credentials() is not None
    except Exception:  # noqa: BLE001 - a credential provider that fails (no metadata service here) is none
        configured = False
    if configured:
        return {}
    return {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None)  # None on a botocore timeout
    error = response.get("Error", {}) if isinstance(response, dict) else {}
    return str(error.get("Code", type(exc).__name__))


@dataclass
class Target:
    """A deployed stage (or the local stack addressed as one): its resources by their declared names."""

    stage: str
    endpoint_url: str | None = None
    region: str | None = None
    _clients: dict[str, Any] = field(default_factory=dict)
    _urls: dict[str, str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(
                service,
                endpoint_url=self.endpoint_url or None,
                region_name=self.region or None,
                **local_credentials(self.endpoint_url),
            )
        return self._clients[service]

    @property
    def table_name(self) -> str:
        return d.MAIN_TABLE.physical_name(self.stage)

    def table(self) -> Any:
        import boto3

        return boto3.resource(
            "dynamodb",
            endpoint_url=self.endpoint_url or None,
            region_name=self.region or None,
            **local_credentials(self.endpoint_url),
        ).Table(self.table_name)

    def queue_url(self, name: str, dlq: bool = False) -> str:
        """The URL of queue `name` (a logical name of d.QUEUES) or of its DLQ."""
        key = f"{name}{'#dlq' if dlq else ''}"
        if key not in self._urls:
            spec = queue_def(name)
            physical = spec.dlq_physical_name(self.stage) if dlq else spec.physical_name(self.stage)
            try:
                self._urls[key] = self.client("sqs").get_queue_url(QueueName=physical)["QueueUrl"]
            except Exception as exc:  # noqa: BLE001 (told as what to do)
                raise OperateError(
                    f"no queue {physical} ({_code(exc)}): is stage {self.stage!r} deployed in this account/region?"
                ) from None
        return self._urls[key]


def queue_def(name: str) -> d.QueueDef:
    """The declared queue `name`; a DLQ's name (`webhook-events-dlq`) names its source queue."""
    base = name.removesuffix(".fifo").removesuffix("-dlq")
    for q in d.QUEUES:
        if q.name == base:
            return q
    raise OperateError(f"unknown queue {name!r}: one of {', '.join(q.name for q in d.QUEUES)}")


# -- the table ----------------------------------------------------------------------------------------------------


def _query(target: Target, pk: str, prefix: str = "") -> list[dict[str, Any]]:
    from boto3.dynamodb.conditions import Key

    condition = Key("pk").eq(pk) & Key("sk").begins_with(prefix) if prefix else Key("pk").eq(pk)
    kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": True}
    items: list[dict[str, Any]] = []
    while True:
        page = target.table().query(**kwargs)
        items += [_plain(i) for i in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _scan_mentions(target: Target, org_id: str) -> list[dict[str, Any]]:
    """Rows outside the organisation's partitions that name it (`TASK#…/LINK`, the `ORGS` index, OAuth states,
    shared webhooks' `orgs`). A Scan: operator commands only (export, erasure), never a function."""
    from boto3.dynamodb.conditions import Attr

    condition = Attr("org_id").eq(org_id) | Attr("orgs").contains(org_id)
    kwargs: dict[str, Any] = {"FilterExpression": condition, "ConsistentRead": True}
    items: list[dict[str, Any]] = []
    while True:
        page = target.table().scan(**kwargs)
        items += [_plain(i) for i in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return [i for i in items if i["pk"] not in (f"ORG#{org_id}", f"RATE#{org_id}")]


def org_rows(target: Target, org_id: str) -> list[dict[str, Any]]:
    """Every row the bridge holds about `org_id` (unredacted: callers redact)."""
    return _query(target, f"ORG#{org_id}") + _query(target, f"RATE#{org_id}") + _scan_mentions(target, org_id)


def list_orgs(target: Target) -> list[dict[str, Any]]:
    """The organisations of the `ORGS` index (those the schedules fan out over), each with its connection state."""
    out = []
    for row in _query(target, "ORGS"):
        conn = _connection(target, row["org_id"])
        out.append(
            {
                "org_id": row["org_id"],
                "status": conn.get("status", "not_connected"),
                "mode": conn.get("mode"),
                "workspaces": len(conn.get("workspaces") or []),
                "last_sync_at": conn.get("last_sync_at"),
            }
        )
    return out


def _connection(target: Target, org_id: str) -> dict[str, Any]:
    item = target.table().get_item(Key={"pk": f"ORG#{org_id}", "sk": "CONNECTION"}, ConsistentRead=True)
    return _plain(item.get("Item") or {})


def _kind(sk: str) -> str:
    head = sk.split("#", 1)[0]
    if head == "TICKET" and "#OP#" in sk:
        return "TICKET_OP"
    return head


def show_org(target: Target, org_id: str, *, peek_dlqs: bool = True) -> dict[str, Any]:
    """One organisation's state: connection (state, mode, workspaces), webhooks and their health as the last
    health check saw it at ClickUp, last sync and sweep, the rate budget now, ticket links by state, and its messages
    in each dead-letter queue (peeked: made visible again at once). Raises OperateError for an unknown org."""
    rows = _query(target, f"ORG#{org_id}")
    rate = _query(target, f"RATE#{org_id}")
    if not rows and not rate:
        raise OperateError(f"no organisation {org_id!r} in {target.table_name}")
    conn = next((r for r in rows if r["sk"] == "CONNECTION"), {})
    links: dict[str, int] = {}
    for r in rows:
        if _kind(r["sk"]) == "TICKET":
            state = str(r.get("state", "unknown"))
            links[state] = links.get(state, 0) + 1
    now = time.time()
    budget = next((r for r in rate if r["sk"] == "STATE"), {})
    windows = [r for r in rate if r["sk"].startswith("WINDOW#") and float(r["sk"][7:]) + 60 > now]
    out: dict[str, Any] = {
        "org_id": org_id,
        "connection": {
            "status": conn.get("status", "not_connected"),
            "mode": conn.get("mode"),
            "user": conn.get("user", {}).get("username") if isinstance(conn.get("user"), dict) else None,
            "connected_at": conn.get("connected_at"),
            "default_workspace_id": conn.get("default_workspace_id"),
        },
        "workspaces": conn.get("workspaces") or [],
        "webhooks": [
            {
                k: r.get(k)
                for k in ("workspace_id", "webhook_id", "health", "fail_count", "checked_at", "endpoint")
                if k in r
            }
            for r in rows
            if _kind(r["sk"]) == "WEBHOOK"
        ],
        "last_sync_at": conn.get("last_sync_at"),
        "sync": {k: v for k, v in next((r for r in rows if r["sk"] == "SYNC"), {}).items() if k not in ("pk", "sk")},
        "sweeps": {r["sk"][6:]: r.get("updated_ms") for r in rows if _kind(r["sk"]) == "SWEEP"},
        "rate_budget": {
            **{k: v for k, v in budget.items() if k not in ("pk", "sk")},
            "requests_this_minute": sum(int(w.get("count", 0)) for w in windows),
        },
        "links": links,
        "rows": {k: sum(_kind(r["sk"]) == k for r in rows) for k in sorted({_kind(r["sk"]) for r in rows})},
    }
    if peek_dlqs:
        out["dead_letters"] = {q.name: len(dlq_messages(target, q.name, org_id=org_id)) for q in d.QUEUES}
    out["queues"] = {q.name: queue_depth(target, q.name) for q in d.QUEUES}
    return redact(out)


def queue_depth(target: Target, name: str, dlq: bool = False) -> dict[str, int]:
    """Approximate counts of a queue (all organisations: SQS cannot count one organisation's messages without
    receiving them, and receiving a live queue's messages would count toward their maxReceiveCount)."""
    attrs = target.client("sqs").get_queue_attributes(
        QueueUrl=target.queue_url(name, dlq),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return {
        "visible": int(attrs["ApproximateNumberOfMessages"]),
        "in_flight": int(attrs["ApproximateNumberOfMessagesNotVisible"]),
    }


# -- dead-letter queues ------------------------------------------------------------------------------------------


def _decode(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


def _org_of(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("org_id"), str):
        return str(body["org_id"])
    detail = body.get("detail")  # an EventBridge event (portal-events)
    if isinstance(detail, dict) and isinstance(detail.get("org_id"), str):
        return str(detail["org_id"])
    return None


@dataclass
class Received:
    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, str]
    message_attributes: dict[str, Any]

    @property
    def decoded(self) -> Any:
        return _decode(self.body)

    @property
    def org_id(self) -> str | None:
        return _org_of(self.decoded)


def _receive_all(target: Target, url: str, hold_s: int, max_messages: int = 1000) -> Iterator[Received]:
    """Receive every visible message of `url` once, each held invisible for `hold_s` (the caller deletes it or
    makes it visible again). Stops at the first empty receive."""
    sqs = target.client("sqs")
    seen: set[str] = set()
    while len(seen) < max_messages:
        answer = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=hold_s,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        if not messages:
            return
        for m in messages:
            if m["MessageId"] in seen:
                continue
            seen.add(m["MessageId"])
            yield Received(
                m["MessageId"], m["ReceiptHandle"], m["Body"], m.get("Attributes", {}), m.get("MessageAttributes", {})
            )


def _release(target: Target, url: str, held: list[Received]) -> None:
    """Make held messages visible again at once (ChangeMessageVisibility 0): others' messages stay in place."""
    sqs = target.client("sqs")
    for i in range(0, len(held), 10):
        chunk = held[i : i + 10]
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0} for n, m in enumerate(chunk)
            ],
        )


def list_dlqs(target: Target) -> list[dict[str, Any]]:
    """Every declared queue's DLQ with its approximate depth."""
    return [
        {"queue": q.name, "dlq": q.dlq_physical_name(target.stage), **queue_depth(target, q.name, dlq=True)}
        for q in d.QUEUES
    ]


def dlq_messages(target: Target, queue: str, *, org_id: str | None = None, hold_s: int = 30) -> list[dict[str, Any]]:
    """The DLQ's messages (of `org_id` only, when given), decoded and redacted, with their receive counts; every
    message is made visible again before this returns."""
    url = target.queue_url(queue_def(queue).name, dlq=True)
    held = list(_receive_all(target, url, hold_s))
    try:
        return [
            redact(
                {
                    "message_id": m.message_id,
                    "org_id": m.org_id,
                    # this look is a receive too: not counted
                    "receive_count": int(m.attributes.get("ApproximateReceiveCount", "1")) - 1,
                    "sent_at": _iso_ms(m.attributes.get("SentTimestamp")),
                    "sent_ms": int(m.attributes.get("SentTimestamp", "0")),
                    "first_received_at": _iso_ms(m.attributes.get("ApproximateFirstReceiveTimestamp")),
                    "group_id": m.attributes.get("MessageGroupId"),
                    "body": m.decoded,
                    "reason": poison_reason(queue_def(queue).name, m.decoded),
                }
            )
            for m in held
            if org_id is None or m.org_id == org_id
        ]
    finally:
        _release(target, url, held)


def _iso_ms(value: str | None) -> str | None:
    if not value:
        return None
    return datetime.fromtimestamp(int(value) / 1000, UTC).isoformat().replace("+00:00", "Z")


def poison_reason(queue: str, body: Any) -> str | None:
    """Why the consumer of `queue` would refuse `body` before doing any work (its message model, the same one the
    worker parses with: bridge/queueing/messages.py), or None when the body is well-formed and the cause is in the
    consumer's logs (the last error logged for its message id)."""
    import sys

    layer = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "layers", "common")
    if layer not in sys.path:
        sys.path.append(layer)
    from pydantic import ValidationError

    from bridge.queueing import messages as m

    adapters: dict[str, Any] = {
        "space-sync": m.sync_message_adapter,
        "task-create": m.task_message_adapter,
        "webhook-events": m.webhook_message_adapter,
        "maintenance": m.maintenance_message_adapter,
    }
    if queue == "portal-events":  # an EventBridge event whose detail is a portal event (functions/portal_delivery)
        detail = body.get("detail") if isinstance(body, dict) else None
        if not (isinstance(detail, dict) and detail.get("org_id") and detail.get("id")):
            return "not a portal event: an EventBridge event whose detail has an id and an org_id"
        return None
    adapter = adapters.get(queue)
    if adapter is None:
        return None if isinstance(body, dict) else "not a JSON object"
    try:
        adapter.validate_python(body if isinstance(body, dict) else {"body": body})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        return f"not a valid {queue} message: {where}: {first.get('msg')}"
    return None


def last_errors(target: Target, queue: str, message_ids: list[str], since_ms: int) -> dict[str, str]:
    """The last error each message's consumer logged (CloudWatch Logs, the consumer function's log group), by
    message id; empty when the logs cannot be read (e.g. the local stack, which has no CloudWatch Logs)."""
    spec = queue_def(queue)
    group = f"/aws/lambda/{d.function(spec.consumer).physical_name(target.stage)}"
    found: dict[str, str] = {}
    try:
        logs = target.client("logs")
        for mid in message_ids:
            events = logs.filter_log_events(
                logGroupName=group, startTime=since_ms, filterPattern=f'"{mid}"', limit=100
            ).get("events", [])
            errors = [e for e in events if "ERROR" in str(e.get("message", ""))]
            if errors:
                last = max(errors, key=lambda e: int(e.get("timestamp", 0)))
                found[mid] = str(redact_text(str(last["message"]).strip()))[:500]
    except Exception:  # noqa: BLE001 (the logs are an extra: no permission or no log group is not a failure)
        return found
    return found


@dataclass
class RedriveResult:
    redriven: list[str] = field(default_factory=list)  # message ids moved back to the source queue
    left: int = 0  # other messages seen and made visible again


def redrive(
    target: Target,
    queue: str,
    *,
    org_id: str | None = None,
    ids: list[str] | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> RedriveResult:
    """Move the DLQ's messages (of `org_id` only, or only `ids`, when given) back to their source queue, each
    exactly once: sent to the source (same body and message attributes; a FIFO queue keeps the group id and gets a
    deduplication id derived from the DLQ message id, so a redrive run twice after a crash within SQS's 5-minute
    deduplication interval sends it once), then deleted from the DLQ. Messages not selected are made visible again
    at once (ChangeMessageVisibility 0). Raises OperateError when an id given is not in the DLQ."""
    spec = queue_def(queue)
    sqs = target.client("sqs")
    source, dlq = target.queue_url(spec.name), target.queue_url(spec.name, dlq=True)
    wanted = set(ids or [])
    result = RedriveResult()
    others: list[Received] = []
    try:
        for m in _receive_all(target, dlq, hold_s=120):
            if (org_id is not None and m.org_id != org_id) or (wanted and m.message_id not in wanted):
                others.append(m)
                continue
            send: dict[str, Any] = {"QueueUrl": source, "MessageBody": m.body}
            if m.message_attributes:
                send["MessageAttributes"] = m.message_attributes
            if spec.fifo:
                send["MessageGroupId"] = m.attributes.get("MessageGroupId") or (m.org_id or "redrive")
                send["MessageDeduplicationId"] = f"redrive-{m.message_id}"[:128]
            sqs.send_message(**send)
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=m.receipt_handle)
            result.redriven.append(m.message_id)
            progress(f"redriven {m.message_id} ({len(result.redriven)})")
    finally:
        _release(target, dlq, others)
    result.left = len(others)
    missing = wanted - set(result.redriven)
    if missing:
        raise OperateError(f"not in {spec.dlq_physical_name(target.stage)}: {', '.join(sorted(missing))}")
    return result


# -- work for one organisation -----------------------------------------------------------------------------------


JOBS = {
    "sync": ("space-sync", lambda org: {"kind": "sync", "org_id": org, "reason": "operator"}),
    "sweep": ("maintenance", lambda org: {"kind": "sweep", "org_id": org}),
    "health": ("maintenance", lambda org: {"kind": "health", "org_id": org}),
}


def queue_job(target: Target, org_id: str, job: str) -> dict[str, str]:
    """Queue for one organisation the work a schedule's tick queues for each (bridge/queueing/messages.py: `sync`
    on space-sync, `sweep` and `health` on maintenance, grouped by organisation). Raises OperateError when the
    organisation is not connected."""
    conn = _connection(target, org_id)
    if conn.get("status") != "connected":
        raise OperateError(f"organisation {org_id!r} is {conn.get('status', 'not connected')}: nothing to {job}")
    queue, body = JOBS[job]
    spec = queue_def(queue)
    import uuid

    answer = target.client("sqs").send_message(
        QueueUrl=target.queue_url(queue),
        MessageBody=json.dumps(body(org_id)),
        **({"MessageGroupId": org_id, "MessageDeduplicationId": uuid.uuid4().hex} if spec.fifo else {}),
    )
    return {"queue": spec.physical_name(target.stage), "message_id": str(answer["MessageId"])}


def wait_for_job(
    target: Target, org_id: str, job: str, since_s: float, timeout_s: float, progress: ON_ERROR
) -> dict[str, Any]:
    """Wait until the job queued at `since_s` (epoch seconds) shows its effect: a sync's `SYNC` row idle again
    and written after it; a sweep: the maintenance queue drained (every organisation's work: approximate); a health
    check: every webhook's `checked_at` past it. Raises OperateError on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = _query(target, f"ORG#{org_id}")
        if job == "sync":
            state = next((r for r in rows if r["sk"] == "SYNC"), {})
            done = state.get("state") == "idle" and float(state.get("updated_at", 0)) >= int(since_s)
        elif job == "sweep":
            # The sweep leaves no "done at" mark (its checkpoint is ClickUp's date_updated, which moves only when
            # tasks changed): done when the maintenance queue has nothing left, visible or in flight.
            depth = queue_depth(target, "maintenance")
            done = depth["visible"] == 0 and depth["in_flight"] == 0
        else:
            stamps = [str(r.get("checked_at") or "") for r in rows if _kind(r["sk"]) == "WEBHOOK"]
            since_iso = datetime.fromtimestamp(int(since_s), UTC).isoformat().replace("+00:00", "Z")
            done = bool(stamps) and all(s >= since_iso[:19] for s in stamps)
        if done:
            return {"done": True}
        progress(f"waiting for {job} of {org_id}…")
        time.sleep(0.5)
    raise OperateError(f"{job} of {org_id} not seen done within {timeout_s:.0f}s (it stays queued; see the logs)")


# -- events replay ----------------------------------------------------------------------------------------------


def parse_time(text: str) -> int:
    """`text` (ISO 8601, e.g. 2026-12-01T02:00:00Z, or a duration back from now: 90m, 2h, 3d) as epoch ms."""
    text = text.strip()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[:-1].isdigit() and text[-1:] in units:
        return int((time.time() - int(text[:-1]) * units[text[-1]]) * 1000)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise OperateError(f"--since {text!r}: an ISO 8601 time (2026-12-01T02:00:00Z) or 90m, 2h, 3d") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def replay_events(target: Target, org_id: str, since_ms: int, progress: ON_ERROR) -> list[str]:
    """Put the organisation's feed events recorded since `since_ms` on the stage's bus again, unchanged (same event
    ids: the portal deduplicates), so the portal-events rule hands them to the push delivery as before. Returns the
    event ids in feed order."""
    from boto3.dynamodb.conditions import Key

    low = f"EVENT#{since_ms:013d}"
    rows = []
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(f"ORG#{org_id}") & Key("sk").between(low, "EVENT#~"),
        "ConsistentRead": True,
    }
    while True:
        page = target.table().query(**kwargs)
        rows += [_plain(i) for i in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    events = target.client("events")
    bus = d.resource_name(target.stage, d.EVENT_BUS)
    source = next(r.source for r in d.EVENT_RULES if r.queue == "portal-events")
    ids: list[str] = []
    for i in range(0, len(rows), 10):  # PutEvents takes up to 10 entries
        chunk = [r["event"] for r in rows[i : i + 10]]
        answer = events.put_events(
            Entries=[
                {"Source": source, "DetailType": e["type"], "Detail": json.dumps(e), "EventBusName": bus} for e in chunk
            ]
        )
        if answer.get("FailedEntryCount"):
            raise OperateError(f"the bus refused {answer['FailedEntryCount']} event(s) after {len(ids)} replayed")
        ids += [e["id"] for e in chunk]
        progress(f"replayed {len(ids)}/{len(rows)}")
    return ids


# -- export and erasure -----------------------------------------------------------------------------------------


def export_org(target: Target, org_id: str) -> dict[str, Any]:
    """Everything the bridge holds about `org_id`: every row (its partitions, its rate budget, the rows elsewhere
    that name it), redacted; secrets appear as "[redacted]" only. Raises OperateError for an unknown org."""
    rows = org_rows(target, org_id)
    if not rows:
        raise OperateError(f"no organisation {org_id!r} in {target.table_name}")
    kinds: dict[str, int] = {}
    for r in rows:
        kind = _kind(r["sk"]) if r["pk"].startswith("ORG#") else r["pk"].split("#", 1)[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    return {
        "org_id": org_id,
        "stage": target.stage,
        "exported_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "kinds": kinds,
        "rows": redact(rows),
    }


def _bridge_environment(target: Target) -> dict[str, str]:
    """What the bridge's own code (layers/common/bridge) needs to act on this stage from the operator's process."""
    key = target.client("kms").describe_key(KeyId=d.TOKENS_KEY.alias(target.stage))["KeyMetadata"]["Arn"]
    env = {
        "STAGE": target.stage,
        "TABLE_NAME": target.table_name,
        "EVENT_BUS_NAME": d.resource_name(target.stage, d.EVENT_BUS),
        "TOKENS_KEY_ID": key,
        **{q.env_var: target.queue_url(q.name) for q in d.QUEUES},
    }
    if target.endpoint_url:
        env["AWS_ENDPOINT_URL"] = target.endpoint_url
    if target.region:
        env["AWS_DEFAULT_REGION"] = env["AWS_REGION"] = target.region
    return env


def _who(target: Target) -> str:
    try:
        return str(target.client("sts").get_caller_identity()["Arn"])
    except Exception:  # noqa: BLE001
        return os.environ.get("USER", "unknown")


def erase_org(target: Target, org_id: str, progress: ON_ERROR) -> dict[str, Any]:
    """Erase `org_id`: (1) crypto-shred: every vault envelope of the organisation (its ClickUp token, webhook
    secrets, the portal's signing secret) is overwritten in the table, the token kept in memory only; (2) its
    webhooks are left at ClickUp with that token (deleted there unless another organisation still uses one: the
    bridge's own `registration.unregister_all`); (3) every row that names it is deleted; (4) the erasure (who, when,
    how many rows, the webhook outcomes) is recorded under `ERASURES`, which the erasure does not touch.
    Raises OperateError for an unknown organisation."""
    rows = org_rows(target, org_id)
    if not rows:
        raise OperateError(f"no organisation {org_id!r} in {target.table_name}")
    os.environ.update(_bridge_environment(target))
    import sys

    layer = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "layers", "common")
    if layer not in sys.path:
        sys.path.append(layer)
    from bridge.clickup.client import ClickUpClient
    from bridge.core import config
    from bridge.repositories import connections
    from bridge.vault import envelope
    from bridge.webhooks import registration

    config.settings.cache_clear()
    conn = connections.get(org_id)
    client = None
    if conn and conn.token:
        try:
            client = ClickUpClient(envelope.open_envelope(org_id, envelope.TOKEN, conn.token))
        except envelope.VaultError:
            client = None
    table = target.table()
    shredded = 0
    for row in rows:  # (1) no envelope of the organisation remains readable
        names = [k for k, v in row.items() if k in SECRET_KEYS or (isinstance(v, dict) and "edk" in v)]
        if names and row["pk"] in (f"ORG#{org_id}", f"RATE#{org_id}"):
            table.update_item(
                Key={"pk": row["pk"], "sk": row["sk"]},
                UpdateExpression="REMOVE " + ", ".join(f"#a{i}" for i in range(len(names))),
                ExpressionAttributeNames={f"#a{i}": n for i, n in enumerate(names)},
            )
            shredded += len(names)
    envelope.forget(org_id)
    progress(f"shredded {shredded} secret(s)")
    outcomes = registration.unregister_all(org_id, client)  # (2)
    progress(f"webhooks: {', '.join(o['outcome'] for o in outcomes) or 'none'}")
    deleted = 0
    for row in org_rows(target, org_id):  # (3) (read again: unregister_all removed some)
        if row["pk"].startswith("WEBHOOK#") and row["sk"] == "META" and org_id in (row.get("orgs") or []):
            table.update_item(
                Key={"pk": row["pk"], "sk": "META"},
                UpdateExpression="DELETE orgs :o",
                ExpressionAttributeValues={":o": {org_id}},
            )
            continue
        table.delete_item(Key={"pk": row["pk"], "sk": row["sk"]})
        deleted += 1
        if deleted % 25 == 0:
            progress(f"deleted {deleted} row(s)")
    record = {
        "pk": ERASURES_PK,
        "sk": f"{datetime.now(UTC).isoformat().replace('+00:00', 'Z')}#{org_id}",
        "org_id_erased": org_id,
        "erased_by": _who(target),
        "erased_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "rows_deleted": deleted,
        "secrets_shredded": shredded,
        "webhooks": [{k: v for k, v in o.items() if v is not None} for o in outcomes],
    }
    table.put_item(Item=record)  # (4)
    return {k: v for k, v in record.items() if k not in ("pk", "sk")}
