"""`ORG#{org}` / `TICKET#{ticket}`: a ticket's link to its ClickUp task (state, the creation attempt, the task's
last known fields and the ClickUp date each field was last changed), and `TASK#{task}` / `LINK` to find the
ticket of a task (webhooks). Every write is conditional on the version read: concurrent writers never lose an
update."""

from __future__ import annotations

import time
from typing import Any

from bridge.repositories.table import (
    is_conditional_failure,
    main_table,
    org_pk,
    plain,
    put_together,
    query_org,
    storable,
)

PREFIX = "TICKET#"
QUEUED, CREATING, CREATED, FAILED = "queued", "creating", "created", "failed"


def _key(org_id: str, ticket_id: str) -> dict[str, str]:
    return {"pk": org_pk(org_id), "sk": f"{PREFIX}{ticket_id}"}


def get(org_id: str, ticket_id: str) -> dict[str, Any] | None:
    item = main_table().get_item(Key=_key(org_id, ticket_id), ConsistentRead=True).get("Item")
    return plain(item) if item else None


def create(org_id: str, ticket_id: str, link: dict[str, Any], audit_row: dict[str, Any]) -> dict[str, Any] | None:
    """Insert a new link with its first audit row, in one transaction; None when the ticket already has a link
    (a duplicate POST)."""
    item = {k: v for k, v in link.items() if v is not None}
    item.update(_key(org_id, ticket_id), org_id=org_id, ticket_id=ticket_id, version=1)
    return item if put_together(item, "attribute_not_exists(pk)", audit_row) else None


def delete(org_id: str, ticket_id: str) -> None:
    main_table().delete_item(Key=_key(org_id, ticket_id))


def save(link: dict[str, Any]) -> bool:
    """Replace the link if nobody wrote it since it was read (its `version`); False otherwise."""
    version = int(link["version"])
    item = {k: v for k, v in link.items() if v is not None}
    item.update(_key(link["org_id"], link["ticket_id"]), version=version + 1)
    try:
        main_table().put_item(
            Item=storable(item), ConditionExpression="version = :v", ExpressionAttributeValues={":v": version}
        )
    except Exception as exc:
        if is_conditional_failure(exc):
            return False
        raise
    link["version"] = version + 1
    return True


def next_op_seq(org_id: str, ticket_id: str) -> int:
    answer = main_table().update_item(
        Key=_key(org_id, ticket_id),
        UpdateExpression="ADD op_seq :one, version :one",  # a version bump: a writer holding an older read retries
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_NEW",
    )
    return int(answer["Attributes"]["op_seq"])


def all_for(org_id: str) -> list[dict[str, Any]]:
    return [row for row in query_org(org_id, PREFIX) if "#OP#" not in row["sk"]]


# -- task → ticket -------------------------------------------------------------------------------------------
def index_task(org_id: str, ticket_id: str, task_id: str) -> None:
    main_table().put_item(
        Item={"pk": f"TASK#{task_id}", "sk": "LINK", "org_id": org_id, "ticket_id": ticket_id, "at": int(time.time())}
    )


def find_by_task(task_id: str) -> dict[str, Any] | None:
    item = main_table().get_item(Key={"pk": f"TASK#{task_id}", "sk": "LINK"}).get("Item")
    return plain(item) if item else None


# -- linking an existing task ---------------------------------------------------------------------------------
def _transact(items: list[dict[str, Any]]) -> bool:
    """Run DynamoDB TransactWriteItems (`items`: Put/Delete entries in the resource's plain types); False when a
    condition failed (nothing written)."""
    from boto3.dynamodb.types import TypeSerializer

    from bridge.core import aws
    from bridge.core.config import settings

    serialize = TypeSerializer().serialize
    name = settings().table_name

    def wire(entry: dict[str, Any]) -> dict[str, Any]:
        ((kind, body),) = entry.items()
        out: dict[str, Any] = {"TableName": name}
        if "Item" in body:
            out["Item"] = {k: serialize(v) for k, v in storable(body["Item"]).items()}
        if "Key" in body:
            out["Key"] = {k: serialize(v) for k, v in body["Key"].items()}
        if "ConditionExpression" in body:
            out["ConditionExpression"] = body["ConditionExpression"]
        if "Values" in body:
            out["ExpressionAttributeValues"] = {k: serialize(v) for k, v in body["Values"].items()}
        return {kind: out}

    try:
        aws.client("dynamodb").transact_write_items(TransactItems=[wire(e) for e in items])
    except Exception as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True


def link_existing(
    org_id: str,
    ticket_id: str,
    task_id: str,
    link: dict[str, Any],
    audit_row: dict[str, Any],
    also: list[dict[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """Link the ticket to an existing task: the ticket's link (only if it has none), the task's `TASK#{task}` /
    `LINK` row (only if no ticket holds it: the lock two tickets racing for one task cannot both take), the audit
    row and `also` (more Put entries: the portal event's feed rows), in one transaction. The stored link, or None
    when a condition failed (nothing written)."""
    item = {k: v for k, v in link.items() if v is not None}
    item.update(_key(org_id, ticket_id), org_id=org_id, ticket_id=ticket_id, version=1)
    ref = {"pk": f"TASK#{task_id}", "sk": "LINK", "org_id": org_id, "ticket_id": ticket_id, "at": int(time.time())}
    done = _transact(
        [
            {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"Item": ref, "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"Item": audit_row}},
            *(also or []),
        ]
    )
    return item if done else None


def release_stale_task(task_id: str, ref: dict[str, Any]) -> bool:
    """Remove a `TASK#{task}` row whose ticket no longer holds the task (`ref`: the row as read), only if it is
    unchanged since; False when it changed."""
    try:
        main_table().delete_item(
            Key={"pk": f"TASK#{task_id}", "sk": "LINK"},
            ConditionExpression="org_id = :o AND ticket_id = :t",
            ExpressionAttributeValues={":o": ref["org_id"], ":t": ref["ticket_id"]},
        )
    except Exception as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True


def unlink(link: dict[str, Any], audit_row: dict[str, Any], also: list[dict[str, Any]] | None = None) -> bool:
    """Remove the ticket's link (if unchanged since read: its `version`) and its task's `TASK#` row (if it still
    names this ticket), with the audit row and `also` (more Put entries: the portal event's feed rows), in one
    transaction; False when the link changed meanwhile (nothing written)."""
    org_id, ticket_id, task_id = link["org_id"], link["ticket_id"], link.get("task_id")
    items: list[dict[str, Any]] = [
        {
            "Delete": {
                "Key": _key(org_id, ticket_id),
                "ConditionExpression": "version = :v",
                "Values": {":v": int(link["version"])},
            }
        },
        {"Put": {"Item": audit_row}},
        *(also or []),
    ]
    ref = find_by_task(str(task_id)) if task_id else None
    if ref is not None and ref.get("org_id") == org_id and ref.get("ticket_id") == ticket_id:
        items.append(
            {
                "Delete": {
                    "Key": {"pk": f"TASK#{task_id}", "sk": "LINK"},
                    "ConditionExpression": "org_id = :o AND ticket_id = :t",
                    "Values": {":o": org_id, ":t": ticket_id},
                }
            }
        )
    return _transact(items)
