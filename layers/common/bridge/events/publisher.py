"""Publish a portal event: appended to the organisation's feed and put on the EventBridge bus."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from bridge.core import aws
from bridge.core.config import settings
from bridge.core.observability import logger
from bridge.events.models import DATA_MODELS, EventData
from bridge.repositories import events as feed

SOURCE = "clickup-bridge"


def _event(
    org_id: str,
    type: str,
    data: EventData | dict[str, Any],
    *,
    ticket_id: str | None,
    task_id: str | None,
    dedup_key: str | None,
) -> tuple[dict[str, Any], int]:
    """The event as recorded and pushed, and the time it is recorded at (ms)."""
    # One shape per type (bridge.events.models): a dict (an outbox entry written earlier) is read through the
    # type's model, so nothing leaves in a shape the OpenAPI document does not show (ValidationError otherwise).
    model = DATA_MODELS[type]
    if not isinstance(data, model):
        data = model.model_validate(data if isinstance(data, dict) else data.model_dump())
    now_ms = int(time.time() * 1000)
    event_id = hashlib.sha256(f"{org_id}|{dedup_key}".encode()).hexdigest()[:32] if dedup_key else uuid.uuid4().hex
    event: dict[str, Any] = {
        "id": event_id,
        "type": type,
        "org_id": org_id,
        "data": data.model_dump(mode="json"),
        "occurred_at": datetime.fromtimestamp(now_ms / 1000, UTC).isoformat().replace("+00:00", "Z"),
    }
    if ticket_id:
        event["ticket_id"] = ticket_id
    if task_id:
        event["task_id"] = task_id
    return event, now_ms


def feed_rows(
    org_id: str,
    type: str,
    data: EventData,
    *,
    dedup_key: str,
    ticket_id: str | None = None,
    task_id: str | None = None,
) -> list[dict[str, Any]]:
    """The feed's rows of an event, for the caller to write in the transaction that stores the change it reports
    (TransactWriteItems Put entries in the resource's plain types, `bridge.repositories.events.rows`): the event is
    then in the feed exactly when the change is. Afterwards `publish(org_id, type, data, dedup_key=dedup_key,
    again=True)` puts the recorded event on the bus (it finds it recorded and writes nothing more)."""
    event, now_ms = _event(org_id, type, data, ticket_id=ticket_id, task_id=task_id, dedup_key=dedup_key)
    return feed.rows(event, now_ms, dedup_key)


def publish(
    org_id: str,
    type: str,
    data: EventData | dict[str, Any],
    *,
    ticket_id: str | None = None,
    task_id: str | None = None,
    dedup_key: str | None = None,
    again: bool = False,
) -> dict[str, Any] | None:
    """Record the event in the feed and put it on the bus. With `dedup_key` (the change it reports), a change
    reported before is not reported again (None) and the event's id is derived from the key, so a consumer
    deduplicating on ids sees one event per change. `again`: the publisher that recorded the change may have died
    before the bus: the event recorded then is put on the bus (again, if it had got there)."""
    event, now_ms = _event(org_id, type, data, ticket_id=ticket_id, task_id=task_id, dedup_key=dedup_key)
    if not feed.append(event, now_ms, dedup_key):
        recorded = feed.recorded(org_id, dedup_key) if again and dedup_key else None
        if recorded is None:
            return None
        event = recorded
    aws.client("events").put_events(
        Entries=[
            {
                "Source": SOURCE,
                "DetailType": type,
                "Detail": json.dumps(event),
                "EventBusName": settings().event_bus_name,
            }
        ]
    )
    logger.info("portal event", extra={"org_id": org_id, "event_type": type, "event_id": event["id"]})
    return event
