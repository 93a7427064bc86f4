"""The local AWS must keep DynamoDB's guarantees: a conditional write checks and writes as one step, whatever
the concurrency (every claim, the rate limiter's counters and the exactly-once records depend on it)."""

from __future__ import annotations

import threading
import uuid

import pytest
from botocore.exceptions import ClientError

CAP = 40


def test_concurrent_conditional_increments_never_pass_the_condition_twice(stack) -> None:
    table = stack.environment()["TABLE_NAME"]
    key = {"pk": {"S": f"TEST#{uuid.uuid4().hex}"}, "sk": {"S": "COUNTER"}}
    granted: list[int] = []
    lock = threading.Lock()

    def taker() -> None:
        dynamodb = stack.aws.client("dynamodb")
        for _ in range(25):
            try:
                dynamodb.update_item(
                    TableName=table,
                    Key=key,
                    UpdateExpression="ADD n :one",
                    ConditionExpression="attribute_not_exists(n) OR n < :cap",
                    ExpressionAttributeValues={":one": {"N": "1"}, ":cap": {"N": str(CAP)}},
                )
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
                continue
            with lock:
                granted.append(1)

    threads = [threading.Thread(target=taker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = stack.aws.client("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert int(stored["n"]["N"]) == CAP
    assert len(granted) == CAP  # 150 attempts, exactly CAP succeeded


def test_only_one_of_concurrent_creators_wins(stack) -> None:
    table = stack.environment()["TABLE_NAME"]
    rounds, racers = 150, 6
    keys = [{"pk": {"S": f"TEST#{uuid.uuid4().hex}"}, "sk": {"S": "CLAIM"}} for _ in range(rounds)]
    barrier = threading.Barrier(racers)
    wins = [0] * rounds
    lock = threading.Lock()

    def racer(name: int) -> None:
        dynamodb = stack.aws.client("dynamodb")
        for i, key in enumerate(keys):
            barrier.wait()
            try:
                dynamodb.update_item(
                    TableName=table,
                    Key=key,
                    UpdateExpression="SET claimed_by = :me",
                    ConditionExpression="attribute_not_exists(claimed_by)",
                    ExpressionAttributeValues={":me": {"N": str(name)}},
                )
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
                continue
            with lock:
                wins[i] += 1

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins == [1] * rounds


def test_a_cancelled_transaction_leaves_every_item_as_it_was(stack) -> None:
    """The local stack saves only the items a transaction names (not whole tables) to roll back: a put, an update
    and a delete that ran before a failing condition are all undone."""
    table = stack.environment()["TABLE_NAME"]
    dynamodb = stack.aws.client("dynamodb")
    pk = {"S": f"TEST#{uuid.uuid4().hex}"}
    dynamodb.put_item(TableName=table, Item={"pk": pk, "sk": {"S": "KEPT"}, "n": {"N": "1"}})
    dynamodb.put_item(TableName=table, Item={"pk": pk, "sk": {"S": "DOOMED"}, "n": {"N": "1"}})
    try:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": pk, "sk": {"S": "NEW"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": pk, "sk": {"S": "KEPT"}},
                        "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Delete": {"TableName": table, "Key": {"pk": pk, "sk": {"S": "DOOMED"}}}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"pk": pk, "sk": {"S": "KEPT2"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "TransactionCanceledException"
    else:
        raise AssertionError("the transaction should have been cancelled")
    rows = dynamodb.query(
        TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": pk}, ConsistentRead=True
    )["Items"]
    assert {(r["sk"]["S"], r["n"]["N"]) for r in rows} == {("KEPT", "1"), ("DOOMED", "1")}


def test_a_query_reads_its_own_partition_in_order_across_pages(stack) -> None:
    table = stack.environment()["TABLE_NAME"]
    dynamodb = stack.aws.client("dynamodb")
    mine, other = {"S": f"TEST#{uuid.uuid4().hex}"}, {"S": f"TEST#{uuid.uuid4().hex}"}
    for i in (3, 1, 4, 0, 2):
        dynamodb.put_item(TableName=table, Item={"pk": mine, "sk": {"S": f"ROW#{i}"}})
        dynamodb.put_item(TableName=table, Item={"pk": other, "sk": {"S": f"ROW#{i}"}})
    seen: list[str] = []
    start: dict | None = None
    while True:
        page = dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :row)",
            ExpressionAttributeValues={":pk": mine, ":row": {"S": "ROW#"}},
            Limit=2,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        seen += [r["sk"]["S"] for r in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert seen == [f"ROW#{i}" for i in range(5)]


def test_a_paginated_scan_reads_every_row_once_in_the_order_of_one_scan(stack) -> None:
    """A Scan resumed from each page's `LastEvaluatedKey` (the local stack starts it after that key instead of
    walking the table from its first row) yields exactly the rows of one scan, in the same order, with a filter
    applied per page as DynamoDB does (after the page's rows are read: pages may come back short or empty)."""
    dynamodb = stack.aws.client("dynamodb")
    table = f"scan-test-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        for p in (2, 0, 3, 1):
            for r in (1, 2, 0):
                item = {"pk": {"S": f"P#{p}"}, "sk": {"S": f"ROW#{r}"}, "even": {"BOOL": (p + r) % 2 == 0}}
                dynamodb.put_item(TableName=table, Item=item)
        one_scan = dynamodb.scan(TableName=table)
        assert "LastEvaluatedKey" not in one_scan
        whole = [(i["pk"]["S"], i["sk"]["S"], i["even"]["BOOL"]) for i in one_scan["Items"]]
        assert len(whole) == 12
        for limit, filtered in ((1, False), (5, False), (7, True), (1, True)):
            seen: list[tuple[str, str, bool]] = []
            pages, start = 0, None
            while True:
                page = dynamodb.scan(
                    TableName=table,
                    Limit=limit,
                    **({"ExclusiveStartKey": start} if start else {}),
                    **(
                        {"FilterExpression": "even = :t", "ExpressionAttributeValues": {":t": {"BOOL": True}}}
                        if filtered
                        else {}
                    ),
                )
                pages += 1
                assert len(page["Items"]) <= limit and page["ScannedCount"] <= limit
                seen += [(i["pk"]["S"], i["sk"]["S"], i["even"]["BOOL"]) for i in page["Items"]]
                start = page.get("LastEvaluatedKey")
                if not start:
                    break
            assert seen == [row for row in whole if row[2] or not filtered], (limit, filtered)
            assert pages >= 12 // limit
    finally:
        dynamodb.delete_table(TableName=table)


def test_sqs_takes_messages_up_to_1_mib_and_refuses_larger(stack) -> None:
    """SQS's message size limit is 1 MiB (raised from 256 KB in 2025, with Lambda's asynchronous invocations and
    EventBridge: "serverless services now support payloads up to 1 MB", AWS Compute Blog); the queues keep
    the default (the template sets no MaximumMessageSize)."""
    sqs = stack.aws.client("sqs")
    url = sqs.create_queue(QueueName=f"size-{uuid.uuid4().hex[:8]}", Attributes={"SqsManagedSseEnabled": "true"})[
        "QueueUrl"
    ]
    try:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["MaximumMessageSize"])["Attributes"]
        assert attrs["MaximumMessageSize"] == str(1024 * 1024)
        with pytest.raises(ClientError, match="InvalidParameterValue"):
            sqs.send_message(QueueUrl=url, MessageBody="x" * (1024 * 1024 + 1))
        sqs.send_message(QueueUrl=url, MessageBody="y" * (1024 * 1024))
        (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
        assert len(message["Body"]) == 1024 * 1024
    finally:
        sqs.delete_queue(QueueUrl=url)


def _transaction(table: str, key: dict, value: str) -> list[dict]:
    return [
        {
            "Put": {
                "TableName": table,
                "Item": {**key, "v": {"S": value}},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    ]


def test_a_transaction_repeated_with_its_client_request_token_succeeds_without_writing_again(stack) -> None:
    """DynamoDB API Reference, TransactWriteItems, ClientRequestToken: a repeat of a successful call within
    10 minutes "returns successfully without making any changes"; other parameters under the same token are
    refused (IdempotentParameterMismatchException). The SDK fills the token in and keeps it across its retries, so
    a retry after a lost answer must not fail its own condition (a false "already exists")."""
    table = stack.environment()["TABLE_NAME"]
    dynamodb = stack.aws.client("dynamodb")
    key = {"pk": {"S": f"TEST#{uuid.uuid4().hex}"}, "sk": {"S": "ONCE"}}
    token = uuid.uuid4().hex
    dynamodb.transact_write_items(TransactItems=_transaction(table, key, "first"), ClientRequestToken=token)
    # the same call again (what botocore's retry sends): success, and nothing written a second time
    dynamodb.transact_write_items(TransactItems=_transaction(table, key, "first"), ClientRequestToken=token)
    assert dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["v"] == {"S": "first"}
    # without the token (or with another) the condition is checked again, as always
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(
            TransactItems=_transaction(table, key, "first"), ClientRequestToken=uuid.uuid4().hex
        )
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    # the same token with other parameters
    with pytest.raises(ClientError) as mismatch:
        dynamodb.transact_write_items(TransactItems=_transaction(table, key, "second"), ClientRequestToken=token)
    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["v"] == {"S": "first"}


def test_a_failed_transaction_is_not_remembered_by_its_token(stack) -> None:
    """Only a successful call is answered again from its token: a call whose condition failed is checked anew."""
    table = stack.environment()["TABLE_NAME"]
    dynamodb = stack.aws.client("dynamodb")
    key = {"pk": {"S": f"TEST#{uuid.uuid4().hex}"}, "sk": {"S": "LATER"}}
    dynamodb.put_item(TableName=table, Item={**key, "v": {"S": "there"}})
    token = uuid.uuid4().hex
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=_transaction(table, key, "mine"), ClientRequestToken=token)
    dynamodb.delete_item(TableName=table, Key=key)
    dynamodb.transact_write_items(TransactItems=_transaction(table, key, "mine"), ClientRequestToken=token)
    assert dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["v"] == {"S": "mine"}
