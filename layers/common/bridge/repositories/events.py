"""`ORG#{org}` / `EVENT#{ms}#{id}`: the organisation's portal event feed, in the order events were recorded,
expiring after 30 days; and `ORG#{org}` / `EVENTKEY#{key}`: the change an event reports, so a change delivered
twice (ClickUp re-sends, SQS redelivers, a sweep finds what a webhook already said) is reported once."""

from __future__ import annotations

from typing import Any

from bridge.repositories.table import main_table, org_pk, plain, put_together, storable

RETENTION_S = 30 * 86400
PREFIX = "EVENT#"


def _row(event: dict[str, Any], recorded_ms: int) -> dict[str, Any]:
    sk = f"{PREFIX}{recorded_ms:013d}#{event['id']}"
    return {"pk": org_pk(event["org_id"]), "sk": sk, "event": event, "expires_at": recorded_ms // 1000 + RETENTION_S}


def _key_row(row: dict[str, Any], dedup_key: str) -> dict[str, Any]:
    return {"pk": row["pk"], "sk": f"EVENTKEY#{dedup_key}", "event_sk": row["sk"], "expires_at": row["expires_at"]}


def append(event: dict[str, Any], recorded_ms: int, dedup_key: str | None = None) -> bool:
    """Record the event; False (nothing written) when `dedup_key` was recorded before."""
    row = _row(event, recorded_ms)
    if dedup_key is None:
        main_table().put_item(Item=storable(row))
        return True
    return put_together(_key_row(row, dedup_key), "attribute_not_exists(pk)", row)


def rows(event: dict[str, Any], recorded_ms: int, dedup_key: str) -> list[dict[str, Any]]:
    """The feed's rows for the event, for a caller to write in its own transaction with the change the event
    reports (`[{"Put": {"Item", "ConditionExpression"?}}]`): the event and its `EVENTKEY#{dedup_key}`, which
    `append` and `recorded` then find, so the event is in the feed exactly when the change is stored."""
    row = _row(event, recorded_ms)
    return [
        {"Put": {"Item": _key_row(row, dedup_key), "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Put": {"Item": row}},
    ]


def recorded(org_id: str, dedup_key: str) -> dict[str, Any] | None:
    """The event recorded for the change `dedup_key`, if the feed still has it."""
    key_row = main_table().get_item(Key={"pk": org_pk(org_id), "sk": f"EVENTKEY#{dedup_key}"}).get("Item")
    if not key_row:
        return None
    row = main_table().get_item(Key={"pk": org_pk(org_id), "sk": key_row["event_sk"]}).get("Item")
    return plain(row)["event"] if row else None


CURSOR_PATTERN = r"^[0-9]{13}#[0-9a-f]{32}$"  # `{recorded ms}#{event id}`: the position of an event in the feed


def page(org_id: str, after: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """Events recorded after the cursor, oldest first, and the cursor of the last one returned."""
    from boto3.dynamodb.conditions import Key

    # Event ids have one length, so "~" (above every id character) puts the lower bound just past `after`;
    # "EVENT#~" sorts above every event and below the EVENTKEY# rows.
    low = f"{PREFIX}{after}~" if after else PREFIX
    condition = Key("pk").eq(org_pk(org_id)) & Key("sk").between(low, f"{PREFIX}~")
    answer = main_table().query(KeyConditionExpression=condition, Limit=limit, ConsistentRead=True)
    rows = [plain(item) for item in answer.get("Items", [])]
    cursor = rows[-1]["sk"][len(PREFIX) :] if rows else after
    return [row["event"] for row in rows], cursor
