"""`ORG#{org}` / `CUSTOMER#{customer}`: which ClickUp space (and optionally list) a portal customer uses."""

from __future__ import annotations

from typing import Any

from bridge.repositories.table import main_table, org_pk, plain, query_org

PREFIX = "CUSTOMER#"


def get(org_id: str, customer_id: str) -> dict[str, Any] | None:
    item = main_table().get_item(Key={"pk": org_pk(org_id), "sk": f"{PREFIX}{customer_id}"}).get("Item")
    return plain(item) if item else None


def put(org_id: str, customer_id: str, record: dict[str, Any]) -> None:
    main_table().put_item(
        Item={
            "pk": org_pk(org_id),
            "sk": f"{PREFIX}{customer_id}",
            "customer_id": customer_id,
            **{k: v for k, v in record.items() if v is not None},
        }
    )


def delete(org_id: str, customer_id: str) -> bool:
    answer = main_table().delete_item(
        Key={"pk": org_pk(org_id), "sk": f"{PREFIX}{customer_id}"}, ReturnValues="ALL_OLD"
    )
    return bool(answer.get("Attributes"))


def all_for(org_id: str) -> list[dict[str, Any]]:
    return query_org(org_id, PREFIX)
