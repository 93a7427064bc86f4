"""Alarms on what the bridge itself reports (the DLQ alarms live with their queues)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from infra import definitions as d

# name → (metric the bridge emits, why an operator is paged)
METRIC_ALARMS = {
    "webhook-unhealthy": (
        "WebhookUnhealthy",
        "A ClickUp webhook was failing, suspended or missing (the health check repaired it): ClickUp dropped "
        "events meanwhile, which the reconciliation sweep repairs; look for why deliveries failed.",
    ),
}


class Monitoring(Construct):
    def __init__(self, scope: Construct, id: str, *, stage: str) -> None:
        super().__init__(scope, id)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for name, (metric_name, description) in METRIC_ALARMS.items():
            base = "".join(part.title() for part in name.split("-"))
            self.alarms[name] = cloudwatch.Alarm(
                self,
                f"{base}Alarm",
                alarm_name=d.resource_name(stage, name),
                alarm_description=description,
                metric=cloudwatch.Metric(
                    namespace=d.METRICS_NAMESPACE,
                    metric_name=metric_name,
                    dimensions_map={"service": d.PROJECT},
                    statistic="Sum",
                    period=Duration.minutes(15),
                ),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
