"""`ORGS` / `ORG#{org}`: the organisations with a ClickUp connection (what the schedules fan out over)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key

from bridge.repositories.table import main_table, plain

PK = "ORGS"


def add(org_id: str) -> None:
    main_table().put_item(Item={"pk": PK, "sk": f"ORG#{org_id}", "org_id": org_id})


def remove(org_id: str) -> None:
    main_table().delete_item(Key={"pk": PK, "sk": f"ORG#{org_id}"})


def all_orgs() -> list[str]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(PK)}
    while True:
        page = main_table().query(**kwargs)
        items.extend(plain(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return [i["org_id"] for i in items]
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
