"""The main table handle and the key helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from bridge.core import aws
from bridge.core.config import settings


def main_table() -> Any:
    return aws.table(settings().table_name)


def org_pk(org_id: str) -> str:
    return f"ORG#{org_id}"


def plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal: turn them into int/float, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def storable(value: Any) -> Any:
    """The reverse of `plain`: floats become Decimal (DynamoDB refuses floats), recursively."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


def is_conditional_failure(exc: Exception) -> bool:
    """True when a write failed because its condition did not hold (`ConditionalCheckFailedException`, or a
    `TransactionCanceledException` with a `ConditionalCheckFailed` reason). A transaction cancelled for another
    reason (`TransactionConflict` with a concurrent transaction, throttling: DynamoDB API Reference,
    "TransactWriteItems", CancellationReasons) is not: it is transient (`bridge.core.aws.is_transient`)."""
    response = getattr(exc, "response", None) or {}
    code = response.get("Error", {}).get("Code", "")
    if code == "ConditionalCheckFailedException":
        return True
    if code != "TransactionCanceledException":
        return False
    reasons = response.get("CancellationReasons")
    if not reasons:  # no reasons given: only the message tells (botocore keeps it)
        return "ConditionalCheckFailed" in str(response.get("Error", {}).get("Message", ""))
    return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)


R = TypeVar("R")  # the record as read
W = TypeVar("W")  # what is written (usually the record read, changed)


@dataclass(frozen=True)
class Done:
    """Returned by `versioned_update`'s `read` or `change`: stop without writing; the update answers `value`.
    Also its `contended` answer when running out of tries is not an error. (Not generic: mypy cannot infer a type
    variable inside `R | Done[V]`.)"""

    value: Any


def versioned_update(
    read: Callable[[], R | Done],
    change: Callable[[R], W | Done],
    write: Callable[[W], bool],
    *,
    tries: int,
    contended: Exception | Done,
    held: R | None = None,
) -> W | Any:
    """Read → change → conditional write, from a fresh read each time the write lost a race.

    `read()` reads the record (consistently) or answers `Done` (e.g. it is gone); `change(record)` decides on it and
    returns what to write (the record changed, or a new one) or `Done` (nothing to write: the answer); `write(w)`
    writes conditionally on the version read and returns False when another writer wrote since (a DynamoDB
    `ConditionalCheckFailedException`, see `is_conditional_failure`). The first try changes `held` when given (the
    record already in hand) instead of reading. Answers what was written, or a `Done`'s value. After `tries`
    lost races: raises `contended`, or answers its value when it is a `Done`. Exceptions from the three callables
    propagate (a change may refuse by raising)."""
    for attempt in range(tries):
        record = held if attempt == 0 and held is not None else read()
        if isinstance(record, Done):
            return record.value
        outcome = change(record)
        if isinstance(outcome, Done):
            return outcome.value
        if write(outcome):
            return outcome
    if isinstance(contended, Done):
        return contended.value
    raise contended


def query_org(org_id: str, prefix: str) -> list[dict[str, Any]]:
    from boto3.dynamodb.conditions import Key

    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(org_pk(org_id)) & Key("sk").begins_with(prefix)}
    while True:
        page = main_table().query(**kwargs)
        items.extend(plain(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def put_together(first: dict[str, Any], condition: str, *others: dict[str, Any]) -> bool:
    """Put `first` (if `condition` holds for it) and the other items in one transaction; False when the condition
    failed (nothing written)."""
    from boto3.dynamodb.types import TypeSerializer

    serialize = TypeSerializer().serialize
    name = settings().table_name

    def put(item: dict[str, Any]) -> dict[str, Any]:
        return {"TableName": name, "Item": {k: serialize(v) for k, v in storable(item).items()}}

    try:
        aws.client("dynamodb").transact_write_items(
            TransactItems=[{"Put": {**put(first), "ConditionExpression": condition}}]
            + [{"Put": put(item)} for item in others]
        )
    except Exception as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True
