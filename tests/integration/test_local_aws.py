"""The local AWS must keep DynamoDB's guarantees: a conditional write checks and writes as one step, whatever
the concurrency (every claim, the rate limiter's counters and the exactly-once records depend on it)."""

from __future__ import annotations

import threading
import uuid

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
