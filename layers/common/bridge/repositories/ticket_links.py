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
