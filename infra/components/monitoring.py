"""Alarms operators expect, and one dashboard of the bridge's own metrics (the DLQ alarms live with their queues).

Every alarm is routed to the alarm topic by `infra/components/alarms.py`. Each description says what the alarm
means and what to do; README ("Alarms") repeats them.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import definitions as d

GTE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
QUIET = cloudwatch.TreatMissingData.NOT_BREACHING

# name → (metric the bridge emits, threshold per period, period in minutes, what it means and what to do)
METRIC_ALARMS: dict[str, tuple[str, int, int, str]] = {
    "webhook-unhealthy": (
        "WebhookUnhealthy",
        1,
        15,
        "A ClickUp webhook was failing, suspended or missing (the health check repaired it): ClickUp dropped "
        "events meanwhile, which the reconciliation sweep repairs; look for why deliveries failed.",
    ),
    "clickup-rate-limited": (
        "ClickUpRateLimited",
        5,
        15,
        "ClickUp answered 429 although the bridge's per-organisation budget should keep it under ClickUp's limit: "
        "another app spends the same token's budget, or ClickUp lowered the limit. Work is handed back until the "
        "reset (nothing is lost); check the logs' org_id for who is affected.",
    ),
}
# Webhook deliveries refused for their signature (bridge/webhooks/ingest.py → functions/webhook: WebhookRejected_*).
SIGNATURE_FAILURES = d.SIGNATURE_FAILURE_METRICS
SIGNATURE_FAILURE_THRESHOLD = 20  # per 5 minutes: a few after a webhook is re-created are normal, a burst is not

# Bridge metrics shown on the dashboard (namespace d.METRICS_NAMESPACE, dimension service), by widget.
DASHBOARD_METRICS: dict[str, tuple[str, ...]] = {
    "Webhooks from ClickUp": (
        "WebhookAccepted",
        *SIGNATURE_FAILURES,
        "WebhookRejected_unknown_webhook",
        "WebhookRejected_invalid_body",
        "WebhookUnhealthy",
        "WebhookRecreated",
    ),
    "Tickets into ClickUp tasks": ("TicketsAccepted", "TaskCreated", "TaskAdopted", "TaskCreationFailed"),
    "ClickUp budget": ("ClickUpRateLimited", "RecordsHandedBack"),
    "Sync and sweep": ("SyncTicks", "SpaceSyncCompleted", "SweepTasksRead", "SweepChangesReported"),
    "Connections": ("OAuthConnected", "OAuthCallbackFailed"),
    "Portal delivery": ("PortalDelivery_delivered", "PortalDeliveryFailed"),
}


def _bridge_metric(name: str, minutes: int) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=d.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": d.PROJECT},
        statistic="Sum",
        period=Duration.minutes(minutes),
    )


def _base(name: str) -> str:
    return "".join(part.title() for part in name.replace("_", "-").split("-"))


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: str,
        functions: dict[str, lambda_.Function],
        queues: dict[str, sqs.Queue],
        schedule_dlq: sqs.Queue,
        table: dynamodb.Table,
        http_api: apigw.HttpApi,
    ) -> None:
        super().__init__(scope, id)
        self.stage = stage
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        five = Duration.minutes(5)

        for name, (metric_name, threshold, minutes, description) in METRIC_ALARMS.items():
            self._alarm(name, _bridge_metric(metric_name, minutes), threshold, description)

        self._alarm(
            "webhook-signature-failures",
            cloudwatch.MathExpression(
                expression=" + ".join(f"FILL(m{i}, 0)" for i in range(len(SIGNATURE_FAILURES))),
                using_metrics={f"m{i}": _bridge_metric(m, 5) for i, m in enumerate(SIGNATURE_FAILURES)},
                label="Webhook deliveries refused for their signature",
                period=five,
            ),
            SIGNATURE_FAILURE_THRESHOLD,
            f"{SIGNATURE_FAILURE_THRESHOLD}+ webhook deliveries in 5 min had no or a wrong X-Signature: someone is "
            "probing the public endpoint, or a webhook's secret changed without the bridge storing it. Check the "
            "webhook function's logs (webhook_id) and the connection's webhooks; the route's throttle bounds a flood.",
        )

        for fn_name, fn in functions.items():
            self._alarm(
                f"{fn_name}-errors",
                fn.metric_errors(period=five, statistic="Sum"),
                1,
                f"The {fn_name} function failed (an uncaught error or a timeout). Its log group has the stack trace "
                "(search for the request id); queued work is retried, then dead-lettered.",
            )
            self._alarm(
                f"{fn_name}-throttles",
                fn.metric_throttles(period=five, statistic="Sum"),
                1,
                f"Lambda throttled the {fn_name} function: the account's concurrency is spent. Queued work waits; "
                "API calls got 429/500. Check which function uses the concurrency (the dashboard) and raise the "
                "account's quota or lower a worker's bound (README: Limits).",
            )

        self._alarm(
            "api-5xx",
            http_api.metric_server_error(period=five, statistic="Sum"),
            5,
            "The HTTP API answered 5xx 5+ times in 5 min: a function failed or timed out (its errors alarm says "
            "which). Bad input never gets a 5xx by design, so each one is a defect or an outage to look at.",
        )

        for q_name, queue in queues.items():
            limit_s = d.QUEUE_AGE_ALARM_S.get(q_name, d.DEFAULT_QUEUE_AGE_ALARM_S)
            self._alarm(
                f"{q_name}-oldest-message-age",
                queue.metric_approximate_age_of_oldest_message(period=five, statistic="Maximum"),
                limit_s,
                f"A message has waited {limit_s // 60}+ min on {q_name}: its worker is failing, throttled, or "
                "handed back by ClickUp's budget. See the worker's errors/throttles alarms and logs.",
            )

        self._alarm(
            "schedule-deliveries-failed",
            schedule_dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
            1,
            "EventBridge Scheduler could not deliver a tick to its queue after its retries: periodic sync, sweep or "
            "webhook repair did not run. The DLQ message says why (its ERROR_CODE/ERROR_MESSAGE attributes); fix the "
            "cause (queue policy, KMS, FIFO settings), then delete the message: the next tick runs the work.",
        )

        self._alarm(
            "dynamodb-throttles",
            cloudwatch.MathExpression(
                expression="FILL(r, 0) + FILL(w, 0)",
                using_metrics={
                    "r": table.metric("ReadThrottleEvents", period=five, statistic="Sum"),
                    "w": table.metric("WriteThrottleEvents", period=five, statistic="Sum"),
                },
                label="DynamoDB throttle events",
                period=five,
            ),
            10,
            "DynamoDB throttled 10+ requests in 5 min (on-demand: a hot partition, one organisation's burst, or a "
            "sudden doubling of traffic). Requests are retried by the SDK; look for the organisation on the "
            "dashboard and the functions' logs.",
        )

        self.dashboard = self._dashboard(functions, queues, http_api)

    def _alarm(self, name: str, metric: cloudwatch.IMetric, threshold: float, description: str) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            f"{_base(name)}Alarm",
            alarm_name=d.resource_name(self.stage, name),
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=GTE,
            treat_missing_data=QUIET,
        )
        self.alarms[name] = alarm
        return alarm

    def _dashboard(
        self, functions: dict[str, lambda_.Function], queues: dict[str, sqs.Queue], http_api: apigw.HttpApi
    ) -> cloudwatch.Dashboard:
        five = Duration.minutes(5)
        dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=d.resource_name(self.stage, "dashboard"),
            default_interval=Duration.hours(3),
        )
        bridge = [
            cloudwatch.GraphWidget(
                title=title, left=[_bridge_metric(m, 5) for m in metrics], width=8, height=6, statistic="Sum"
            )
            for title, metrics in DASHBOARD_METRICS.items()
        ]
        dashboard.add_widgets(*bridge)
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[
                    http_api.metric_count(period=five, statistic="Sum"),
                    http_api.metric_client_error(period=five, statistic="Sum"),
                    http_api.metric_server_error(period=five, statistic="Sum"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Oldest message age (s)",
                left=[q.metric_approximate_age_of_oldest_message(period=five) for q in queues.values()],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Function errors and throttles",
                left=[fn.metric_errors(period=five, statistic="Sum") for fn in functions.values()],
                right=[fn.metric_throttles(period=five, statistic="Sum") for fn in functions.values()],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24, height=4)
        )
        return dashboard
