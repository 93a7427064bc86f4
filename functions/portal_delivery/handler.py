"""Portal push worker: consumes portal-events (fed by an EventBridge rule on the bus) and POSTs each event,
signed, to the organisation's portal webhook URL. The batch's organisations are sent to at once under one
deadline (`delivery.deliver_batch`), so a portal that hangs delays only its own events; an event its portal did not
take is sent again as a delayed copy (`bridge.queueing.outage`: 5 s .. 1 h for 3 days, then the DLQ; the feed keeps
it 30 days), so a portal's outage never spends the record's receives. The others' deliveries stand."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.core.config import settings
from bridge.core.observability import logger, metrics, tracer
from bridge.events import delivery
from bridge.queueing import batch, outage

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

settings()


def _events(
    records: list[dict[str, Any]],
) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, Exception], dict[str, tuple[str, outage.RetryState | None]]]:
    """Each due record's portal event (the `detail` of EventBridge's envelope); why the others are not sent now (an
    unreadable body: poison, fails until the DLQ; a delayed copy not due yet: handed back); and each record's body
    without its retry state, with that state."""
    events: list[tuple[str, dict[str, Any]]] = []
    held: dict[str, Exception] = {}
    unwrapped: dict[str, tuple[str, outage.RetryState | None]] = {}
    for raw in records:
        record_id = raw["messageId"]
        try:
            body, retry = outage.unwrap(raw["body"])
            unwrapped[record_id] = (body, retry)
            outage.hold_until_due(batch.sqs_record(raw), retry)
            event = json.loads(body)["detail"]
            if not (isinstance(event, dict) and event.get("org_id") and event.get("id")):
                raise ValueError("not a portal event")
            events.append((record_id, event))
        except (outage.NotDue, ValueError, KeyError, TypeError) as exc:
            held[record_id] = exc
    return events, held, unwrapped


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    events, held, unwrapped = _events(event.get("Records", []))
    outcomes: dict[str, delivery.Outcome] = {
        **held,
        **delivery.deliver_batch(events, remaining_s=lambda: context.get_remaining_time_in_millis() / 1000),
    }
    org_of = {record_id: e.get("org_id") for record_id, e in events}

    def record_handler(record: SQSRecord) -> None:
        outcome = outcomes[record.message_id]
        if isinstance(outcome, delivery.DeliveryFailed):
            metrics.add_metric(name="PortalDeliveryFailed", unit="Count", value=1)
            logger.warning(
                "portal delivery failed", extra={"org_id": org_of.get(record.message_id), "reason": str(outcome)}
            )
            body, retry = unwrapped[record.message_id]
            if not outage.reschedule(record, body, retry, outage.PORTAL_OUTAGE, reason="portal"):
                raise outcome  # after 3 days: toward the DLQ (the feed keeps the event)
            return
        if isinstance(outcome, Exception):
            raise outcome
        metrics.add_metric(name=f"PortalDelivery_{outcome}", unit="Count", value=1)

    # A processor per invocation: it keeps the batch's outcomes on itself, and its record handler is this batch's.
    return batch.SqsBatch().process(event, record_handler, context)
