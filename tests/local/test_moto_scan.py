"""The local stack's Scan (local/moto_dynamodb.py `_resumed_scan`) answers exactly as moto's own: the same rows,
pages, `LastEvaluatedKey`s, `ScannedCount`s and `Count`s, across the 1 MB page limit, `Limit`, a filter and a
projection. In process (moto's decorator), no local stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.table import Table

from local import moto_dynamodb

VARIANTS: list[dict[str, Any]] = [
    {},
    {"Limit": 1},
    {"Limit": 7},
    {"FilterExpression": "kind = :k", "ExpressionAttributeValues": {":k": {"S": "big"}}},
    {"FilterExpression": "kind = :k", "ExpressionAttributeValues": {":k": {"S": "none"}}, "Limit": 5},
    {"ProjectionExpression": "pk, kind"},
    {"FilterExpression": "n > :n", "ExpressionAttributeValues": {":n": {"N": "20"}}, "ProjectionExpression": "n"},
]


@pytest.fixture
def table() -> Iterator[Any]:
    moto_dynamodb.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName="scan",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for n in range(60):
            big = n % 3 == 0  # 20 rows of ~80 KB: two 1 MB pages
            client.put_item(
                TableName="scan",
                Item={
                    "pk": {"S": f"P#{n % 9}"},
                    "sk": {"S": f"S#{n:03d}"},
                    "n": {"N": str(n)},
                    "kind": {"S": "big" if big else "small"},
                    "blob": {"S": "x" * (80_000 if big else 10)},
                    "nested": {"M": {"list": {"L": [{"N": str(i)} for i in range(n % 4)]}}},
                },
            )
        try:
            yield client
        finally:  # moto's in-process state outlives the decorator when the process also serves a stack
            client.delete_table(TableName="scan")


def _pages(client: Any, **kwargs: Any) -> list[dict[str, Any]]:
    pages, start = [], None
    while True:
        page = client.scan(TableName="scan", **kwargs, **({"ExclusiveStartKey": start} if start else {}))
        pages.append({k: page.get(k) for k in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")})
        start = page.get("LastEvaluatedKey")
        if not start:
            return pages


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: ",".join(v) or "plain")
def test_the_local_scan_answers_as_motos_own(table: Any, variant: dict[str, Any], monkeypatch) -> None:
    local_pages = _pages(table, **variant)
    monkeypatch.setattr(Table, "scan", moto_dynamodb.ORIGINAL["scan"])
    moto_pages = _pages(table, **variant)
    assert len(moto_pages) > 1 or variant.get("FilterExpression"), "the table spans pages"
    assert local_pages == moto_pages
