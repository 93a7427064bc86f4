"""Integration-suite checks run over everything the suite produced."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from local.stack import LocalStack


@pytest.fixture(scope="session")
def portal_event_audit(stack: LocalStack) -> Iterator[dict[str, Any]]:
    """At the end of the session: every portal event any test produced (all of the feed, every organisation,
    and every push the local portal received) validates against its type's schema in docs/openapi.json."""
    from tests.portal_events import problems

    seen: dict[str, Any] = {"types": set()}
    yield seen
    events: list[dict[str, Any]] = []
    dynamodb = stack.aws.client("dynamodb")
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=stack.environment()["TABLE_NAME"],
        FilterExpression="begins_with(sk, :e)",
        ExpressionAttributeValues={":e": {"S": "EVENT#"}},
    )
    from boto3.dynamodb.types import TypeDeserializer

    from bridge.repositories.table import plain

    deserialize = TypeDeserializer().deserialize
    for page in pages:
        for item in page.get("Items", []):
            events.append(plain(deserialize(item["event"])))
    events += [json.loads(str(pushed["body"])) for pushed in list(stack.portal.received)]
    # test_stored_records writes corrupt event rows on purpose (e.g. "not a map") to prove the feed survives them;
    # no producer writes anything but an object (the publisher builds each from its type's model)
    bad = [p for event in events if isinstance(event, dict) for p in problems(event)]
    seen["types"].update(e.get("type") for e in events if isinstance(e, dict))
    assert not bad, f"{len(bad)} portal events outside their documented shape, e.g. {bad[:5]}"


@pytest.fixture(autouse=True)
def _audit_portal_events(request: pytest.FixtureRequest) -> None:
    if "stack" in request.fixturenames:
        request.getfixturevalue("portal_event_audit")
