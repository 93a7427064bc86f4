"""EventBridge rules that route the bus's portal events to their delivery queue."""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import definitions as d


class PortalEvents(Construct):
    def __init__(
        self, scope: Construct, id: str, *, stage: str, bus: events.IEventBus, queues: dict[str, sqs.Queue]
    ) -> None:
        super().__init__(scope, id)
        self.rules: dict[str, events.Rule] = {}
        for spec in d.EVENT_RULES:
            base = "".join(part.title() for part in spec.name.split("-"))
            self.rules[spec.name] = events.Rule(
                self,
                f"{base}Rule",
                rule_name=spec.physical_name(stage),
                description=spec.description,
                event_bus=bus,
                event_pattern=events.EventPattern(source=[spec.source]),
                targets=[targets.SqsQueue(queues[spec.queue])],
            )
