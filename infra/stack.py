"""The bridge's stack: composes one construct per capability, nothing else."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_events as events
from constructs import Construct

from infra import definitions as d
from infra.components.alarms import AlarmRouting
from infra.components.api import Api
from infra.components.encryption import Encryption
from infra.components.functions import Functions
from infra.components.monitoring import Monitoring
from infra.components.portal_events import PortalEvents
from infra.components.queues import Queues
from infra.components.scheduling import Schedules
from infra.components.secrets import Secrets
from infra.components.storage import Storage
from infra.deployment import DeploymentInputs


class BridgeStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: str,
        layer_dir: Path,
        inputs: DeploymentInputs,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        self.inputs = inputs
        self.encryption = Encryption(self, "Encryption", stage=stage)
        self.storage = Storage(self, "Storage", stage=stage, key=self.encryption.data_key)
        self.queues = Queues(self, "Queues", stage=stage)
        self.secrets = Secrets(self, "Secrets", stage=stage, key=self.encryption.data_key)
        self.bus = events.EventBus(self, "EventBus", event_bus_name=d.resource_name(stage, d.EVENT_BUS))
        environment = d.function_environment(
            stage,
            queue_urls={name: q.queue_url for name, q in self.queues.queues.items()},
            key_ids={name: k.key_arn for name, k in self.encryption.keys.items()},
            deployment=inputs.function_settings(),
        )
        self.functions = Functions(
            self,
            "Functions",
            stage=stage,
            layer_dir=layer_dir,
            table=self.storage.table,
            data_key=self.encryption.data_key,
            tokens_key=self.encryption.tokens_key,
            queues=self.queues.queues,
            bus=self.bus,
            secrets=dict(self.secrets.secrets),
            environment=environment,
        )
        self.api = Api(
            self,
            "Api",
            stage=stage,
            functions=dict(self.functions.functions),
            jwt_issuer=inputs.effective_jwt_issuer,
            jwt_audience=inputs.jwt_audience,
            log_key=self.encryption.data_key,
        )
        if not inputs.public_base_url:
            # No custom domain: ClickUp and browsers reach the HTTP API's own endpoint (OAuth redirect URI,
            # webhook endpoint). A reference, not a placeholder: known once CloudFormation created the API.
            for fn in self.functions.functions.values():
                fn.add_environment("PUBLIC_BASE_URL", self.api.http_api.api_endpoint)
        self.schedules = Schedules(self, "Schedules", stage=stage, queues=self.queues.queues)
        self.portal_events = PortalEvents(self, "PortalEvents", stage=stage, bus=self.bus, queues=self.queues.queues)
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            stage=stage,
            functions=dict(self.functions.functions),
            queues=self.queues.queues,
            schedule_dlq=self.schedules.dlq,
            table=self.storage.table,
            http_api=self.api.http_api,
        )
        # Last: every alarm of the stack, wherever declared, notifies the alarm topic.
        self.alarm_routing = AlarmRouting(
            self, "Alarms", stage=stage, key=self.encryption.data_key, email=inputs.alarm_email
        )
        CfnOutput(self, "ApiUrl", value=self.api.http_api.api_endpoint)
        CfnOutput(self, "PublicBaseUrl", value=inputs.public_base_url or self.api.http_api.api_endpoint)
        CfnOutput(self, "TableName", value=self.storage.table.table_name)
        CfnOutput(self, "AlarmTopicArn", value=self.alarm_routing.topic.topic_arn)
        CfnOutput(self, "DashboardName", value=self.monitoring.dashboard.dashboard_name)
