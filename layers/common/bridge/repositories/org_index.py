"""`ORGS` / `ORG#{org}`: the organisations with a ClickUp connection (what the schedules fan out over)."""

from __future__ import annotations

from typing import Any

from bridge.repositories.table import main_table, plain

PK = "ORGS"


def add(org_id: str) -> None:
    main_table().put_item(Item={"pk": PK, "sk": f"ORG#{org_id}", "org_id": org_id})


def remove(org_id: str) -> None:
    main_table().delete_item(Key={"pk": PK, "sk": f"ORG#{org_id}"})


def page(after: str | None, limit: int) -> tuple[list[str], bool]:
    """Up to `limit` organisations in key order, starting after the organisation `after` (exclusive; None: the
    first); the flag says whether more may follow (DynamoDB returned a LastEvaluatedKey: a page cut by `limit` or
    by the 1 MB a Query reads, which may also end exactly at the last item)."""
    from boto3.dynamodb.conditions import Key  # boto3 on first use (cold starts)

    kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(PK), "Limit": limit}
    if after is not None:
        kwargs["ExclusiveStartKey"] = {"pk": PK, "sk": f"ORG#{after}"}
    answer = main_table().query(**kwargs)
    return [str(i["org_id"]) for i in answer.get("Items", [])], "LastEvaluatedKey" in answer


def all_orgs() -> list[str]:
    from boto3.dynamodb.conditions import Key

    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(PK)}
    while True:
        page = main_table().query(**kwargs)
        items.extend(plain(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return [i["org_id"] for i in items]
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
