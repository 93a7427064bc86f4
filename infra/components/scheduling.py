"""EventBridge Scheduler schedules that drop a tick message on a worker's queue."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import definitions as d


class Schedules(Construct):
    def __init__(self, scope: Construct, id: str, *, stage: str, queues: dict[str, sqs.Queue]) -> None:
        super().__init__(scope, id)
        role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
            description="EventBridge Scheduler: send ticks to the bridge's queues",
        )
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
