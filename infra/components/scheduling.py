"""EventBridge Scheduler schedules that drop a tick message on a worker's queue."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import definitions as d
from infra.nag import acknowledge


class Schedules(Construct):
    def __init__(self, scope: Construct, id: str, *, stage: str, queues: dict[str, sqs.Queue]) -> None:
        super().__init__(scope, id)
        role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
            description="EventBridge Scheduler: send ticks to the bridge's queues",
        )
        delivery = d.SCHEDULE_DELIVERY
        # Where a tick goes when Scheduler could not deliver it after its retries (a standard queue: Scheduler
        # refuses a FIFO DLQ). The `schedule-deliveries-failed` alarm watches it.
        self.dlq = sqs.Queue(
            self,
            "ScheduleDlq",
            queue_name=delivery.dlq_physical_name(stage),
            retention_period=Duration.days(delivery.dlq_retention_days),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        acknowledge(
            self.dlq,
            "AwsSolutions-SQS3",
            "This queue is itself a dead-letter queue: EventBridge Scheduler's DeadLetterConfig for the ticks "
            "(not an SQS redrive target, which is what the rule looks for).",
        )
        self.dlq.grant_send_messages(role)
        problems = d.schedule_delivery_problems()
        if problems:
            raise ValueError("schedules that could never deliver: " + "; ".join(problems))
        self.schedules: dict[str, scheduler.CfnSchedule] = {}
        for spec in d.SCHEDULES:
            queue = queues[spec.queue]
            queue.grant_send_messages(role)
            target = scheduler.CfnSchedule.TargetProperty(
                arn=queue.queue_arn,
                role_arn=role.role_arn,
                input=spec.input,
                sqs_parameters=scheduler.CfnSchedule.SqsParametersProperty(message_group_id=spec.name)
                if d.queue(spec.queue).fifo
                else None,
                dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=self.dlq.queue_arn),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_retry_attempts=delivery.max_retry_attempts,
                    maximum_event_age_in_seconds=delivery.max_event_age_s,
                ),
            )
            base = "".join(part.title() for part in spec.name.split("-"))
            self.schedules[spec.name] = scheduler.CfnSchedule(
                self,
                f"{base}Schedule",
                name=spec.physical_name(stage),
                description=spec.description,
                schedule_expression=spec.expression,
                state="ENABLED",
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                target=target,
            )
