"""`ORG#{org}` / `TICKET#{ticket}#OP#{seq}`: portal → ClickUp changes accepted for a ticket (status, priority,
due date, assignees, comments), applied in `seq` order and deleted once applied. Kept in the table, not only on
the queue, so a change accepted before the task exists (or while its creation is retried) is never lost."""

from __future__ import annotations

import time
from typing import Any

from bridge.repositories.table import main_table, org_pk, plain


def _sk(ticket_id: str, seq: int) -> str:
    return f"TICKET#{ticket_id}#OP#{seq:010d}"


def add(org_id: str, ticket_id: str, seq: int, op: dict[str, Any]) -> None:
    main_table().put_item(
        Item={
            "pk": org_pk(org_id),
            "sk": _sk(ticket_id, seq),
            "seq": seq,
            "op": op,
            "accepted_at": int(time.time() * 1000),
        }
    )


def pending(org_id: str, ticket_id: str) -> list[dict[str, Any]]:
    from boto3.dynamodb.conditions import Key  # boto3 on first use (cold starts)

    answer = main_table().query(
        KeyConditionExpression=Key("pk").eq(org_pk(org_id)) & Key("sk").begins_with(f"TICKET#{ticket_id}#OP#"),
        ConsistentRead=True,
    )
    return [plain(i) for i in answer.get("Items", [])]


def update(org_id: str, ticket_id: str, seq: int, **fields: Any) -> None:
    names = {f"#{k}": k for k in fields}
    main_table().update_item(
        Key={"pk": org_pk(org_id), "sk": _sk(ticket_id, seq)},
        UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in fields),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={f":{k}": v for k, v in fields.items()},
    )


def done(org_id: str, ticket_id: str, seq: int) -> None:
    main_table().delete_item(Key={"pk": org_pk(org_id), "sk": _sk(ticket_id, seq)})
