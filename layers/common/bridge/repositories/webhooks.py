"""Our ClickUp webhooks, as each organisation uses them and as they exist at ClickUp.

- `ORG#{org}` / `WEBHOOK#{workspace}`: the organisation's use of a webhook in one workspace: its id, the secret
  (an envelope sealed under the organisation's own vault context), the ClickUp user whose token registered it,
  and the health last seen (or `unregistered` with the error that prevented it).
- `WEBHOOK#{webhook_id}` / `META`: the webhook itself, shared by every organisation that uses it: `orgs` (a string
  set of organisation ids), `workspace_id`, its `health`/`fail_count`/`checked_at` as last seen at ClickUp, and
  `state: deleting` while its last user deletes it at ClickUp.

ClickUp keeps one webhook per user and configuration ("Webhook configuration already exists", OAUTH_171;
https://developer.clickup.com/docs/common_errors), so organisations that connect the same ClickUp user to the same
workspace share one webhook: each joins it, ingestion routes a delivery to every member (each checked against its
own row and secret), and it is deleted at ClickUp only by the member that leaves it last (README, "Webhooks shared
by organisations"). Every membership change is one atomic UpdateItem on the `META` item.
"""

from __future__ import annotations

import time
from typing import Any

from bridge.repositories.table import is_conditional_failure, main_table, org_pk, plain, query_org

PREFIX = "WEBHOOK#"
DELETING = "deleting"
CLAIM_STALE_S = 300  # longer than any function holding a claim can run (the longest Lambda timeout is 120 s)


def _meta_key(webhook_id: str) -> dict[str, str]:
    return {"pk": f"{PREFIX}{webhook_id}", "sk": "META"}


def put(org_id: str, workspace_id: str, record: dict[str, Any]) -> None:
    """Write the organisation's row for `workspace_id` (never the shared `META` item: see `join`)."""
    main_table().put_item(
        Item={
            "pk": org_pk(org_id),
            "sk": f"{PREFIX}{workspace_id}",
            "org_id": org_id,
            "workspace_id": workspace_id,
            **{k: v for k, v in record.items() if v is not None},
        }
    )


def get(org_id: str, workspace_id: str) -> dict[str, Any] | None:
    key = {"pk": org_pk(org_id), "sk": f"{PREFIX}{workspace_id}"}
    item = main_table().get_item(Key=key, ConsistentRead=True).get("Item")
    return plain(item) if item else None


def list_for(org_id: str) -> list[dict[str, Any]]:
    return query_org(org_id, PREFIX)


def shared(webhook_id: str) -> dict[str, Any] | None:
    """The webhook's `META` item: `orgs` (a set), `workspace_id`, health as last seen; None when no one uses it."""
    item = main_table().get_item(Key=_meta_key(webhook_id), ConsistentRead=True).get("Item")
    return plain(item) if item else None


def members(meta: dict[str, Any] | None) -> set[str]:
    """The organisations using a webhook (a `META` item written before sharing names one in `org_id`)."""
    if not meta:
        return set()
    orgs = {str(o) for o in meta.get("orgs") or ()}
    if meta.get("org_id"):
        orgs.add(str(meta["org_id"]))
    return orgs


def join(org_id: str, workspace_id: str, webhook_id: str) -> bool:
    """Add the organisation to the webhook's users. False while its last user is deleting it at ClickUp (the
    caller registers again once it is gone). A claim older than `CLAIM_STALE_S` is of a leaver that died between
    its claim and `forget`: the joiner takes the webhook over (and the late leaver's `forget` then does nothing)."""
    try:
        main_table().update_item(
            Key=_meta_key(webhook_id),
            UpdateExpression="ADD orgs :o SET workspace_id = :ws REMOVE #s, claimed_at",
            ConditionExpression="attribute_not_exists(#s) OR #s <> :deleting OR claimed_at < :stale",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={
                ":o": {org_id},
                ":ws": workspace_id,
                ":deleting": DELETING,
                ":stale": int(time.time()) - CLAIM_STALE_S,
            },
        )
    except Exception as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True


def leave(org_id: str, webhook_id: str) -> bool:
    """Remove the organisation from the webhook's users; True when it was the last one and this call claimed the
    deletion at ClickUp (exactly one leaver does; the caller then deletes it and calls `forget`). A webhook
    another organisation still uses, or joins meanwhile, is never claimed."""
    table = main_table()
    try:
        after = table.update_item(
            Key=_meta_key(webhook_id),
            UpdateExpression="DELETE orgs :o",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":o": {org_id}},
            ReturnValues="ALL_NEW",
        )["Attributes"]
    except Exception as exc:
        if is_conditional_failure(exc):
            return False  # no one records using it (already forgotten)
        raise
    if after.get("org_id") == org_id:  # a `META` item written before sharing names its one user in `org_id`
        after = table.update_item(
            Key=_meta_key(webhook_id),
            UpdateExpression="REMOVE org_id",
            ReturnValues="ALL_NEW",
        )["Attributes"]
    if members(after):
        return False
    try:
        table.update_item(
            Key=_meta_key(webhook_id),
            UpdateExpression="SET #s = :deleting, claimed_at = :now",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(orgs) AND "
            "attribute_not_exists(org_id) AND (attribute_not_exists(#s) OR #s <> :deleting)",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":deleting": DELETING, ":now": int(time.time())},
        )
    except Exception as exc:
        if is_conditional_failure(exc):
            return False  # someone joined in between, or another leaver claimed it
        raise
    return True


def forget(webhook_id: str) -> None:
    """Drop the `META` item of a webhook its last user deleted (or tried to delete) at ClickUp; nothing when a
    joiner took a stale claim over meanwhile (its health check then finds the webhook missing and repairs it)."""
    try:
        main_table().delete_item(
            Key=_meta_key(webhook_id),
            ConditionExpression="#s = :deleting",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":deleting": DELETING},
        )
    except Exception as exc:
        if not is_conditional_failure(exc):
            raise


def set_health(webhook_id: str, health: str, fail_count: int, checked_at: str) -> None:
    """Record what ClickUp shows for the webhook (`missing` when it is gone), seen by every organisation using it.
    Only for a webhook someone uses: a `META` item is never created here."""
    try:
        main_table().update_item(
            Key=_meta_key(webhook_id),
            UpdateExpression="SET health = :h, fail_count = :f, checked_at = :c",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":h": health, ":f": fail_count, ":c": checked_at},
        )
    except Exception as exc:
        if not is_conditional_failure(exc):
            raise


def delete(org_id: str, workspace_id: str) -> None:
    """Forget the organisation's row (its membership is left through `leave`)."""
    main_table().delete_item(Key={"pk": org_pk(org_id), "sk": f"{PREFIX}{workspace_id}"})
