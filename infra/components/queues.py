"""SQS queues, each with its DLQ, redrive policy, TLS-only access and an alarm on the DLQ."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import definitions as d


class Queues(Construct):
    def __init__(self, scope: Construct, id: str, *, stage: str) -> None:
        super().__init__(scope, id)
        self.queues: dict[str, sqs.Queue] = {}
        self.dlqs: dict[str, sqs.Queue] = {}
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for spec in d.QUEUES:
            base = "".join(part.title() for part in spec.name.split("-"))
            dlq = sqs.Queue(
                self,
                f"{base}Dlq",
                queue_name=spec.dlq_physical_name(stage),
                fifo=spec.fifo or None,
                retention_period=Duration.days(spec.dlq_retention_days),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
            )
            queue = sqs.Queue(
                self,
                f"{base}Queue",
                queue_name=spec.physical_name(stage),
                fifo=spec.fifo or None,
                content_based_deduplication=spec.content_based_deduplication if spec.fifo else None,
                visibility_timeout=Duration.seconds(spec.visibility_timeout_s),
                retention_period=Duration.days(spec.retention_days),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=spec.max_receive_count),
            )
            self.alarms[spec.name] = cloudwatch.Alarm(
                self,
                f"{base}DlqAlarm",
                alarm_name=d.resource_name(stage, f"{spec.name}-dlq-not-empty"),
                alarm_description=f"Messages from {spec.name} reached its DLQ: inspect and redrive them.",
                metric=dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            self.queues[spec.name], self.dlqs[spec.name] = queue, dlq
