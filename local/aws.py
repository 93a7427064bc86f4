"""AWS on loopback: moto's threaded server, provisioned from infra/definitions.py (the CDK stack's source)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

from infra import definitions as d
from local import moto_dynamodb, moto_sqs
from local.runtime import ACCOUNT_ID
from local.servers import BackgroundServer

REGION = "eu-west-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


@dataclass
class Provisioned:
    stage: str
    queue_urls: dict[str, str] = field(default_factory=dict)
    dlq_urls: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)


class _QuietMotoHandler(MotoRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        if logging.getLogger("local.access").isEnabledFor(logging.DEBUG):
            super().log_request(*args, **kwargs)


class AtomicDynamoDB:
    """DynamoDB applies each request atomically: a conditional write checks and writes as one step. moto's backend
    takes no lock, so two concurrent requests through its threaded server can both pass one condition (measured:
    two winners of an `attribute_not_exists` claim, two rate-limit windows opened at once). Serialising DynamoDB
    requests restores the guarantee that claims, counters and exactly-once records rely on; other services stay
    concurrent."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self._app(environ, start_response)
        with self._lock:
            return list(self._app(environ, start_response))  # the whole answer is produced inside the lock


class LocalAws:
    """moto behind its threaded HTTP server (the default: every process and thread sees one AWS), or in this
    process only (`in_process`: moto's mock intercepts boto3 without the HTTP hop, several times faster; for a
    single-threaded harness such as the fault runs, which make millions of calls)."""

    def __init__(self, port: int = 0, in_process: bool = False) -> None:
        moto_dynamodb.install()
        moto_sqs.install()
        self.in_process = in_process
        self._server: BackgroundServer | None = None
        self._mock: Any = None
        if not in_process:
            app = AtomicDynamoDB(DomainDispatcherApplication(create_backend_app))
            self._server = BackgroundServer(app, port, request_handler=_QuietMotoHandler)
        self.endpoint = ""

    def start(self) -> LocalAws:
        if self._server is None:
            from moto import mock_aws

            self._mock = mock_aws()
            self._mock.start()
            return self
        self._server.start()
        self.endpoint = self._server.url
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self._mock is not None:
            self._mock.stop()

    def environment(self) -> dict[str, str]:
        endpoint = {"AWS_ENDPOINT_URL": self.endpoint} if self.endpoint else {}
        return {**endpoint, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, **CREDENTIALS}

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint or None,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def provision(self, stage: str) -> Provisioned:
        out = Provisioned(stage=stage)
        kms = self.client("kms")
        for key in d.KEYS:
            meta = kms.create_key(Description=key.description, KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT")[
                "KeyMetadata"
            ]
            kms.enable_key_rotation(KeyId=meta["KeyId"])
            kms.create_alias(AliasName=key.alias(stage), TargetKeyId=meta["KeyId"])
            out.key_ids[key.name] = meta["Arn"]

        ddb = self.client("dynamodb")
        for table in d.TABLES:
            name = table.physical_name(stage)
            ddb.create_table(
                TableName=name,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    {"AttributeName": table.partition_key, "AttributeType": "S"},
                    {"AttributeName": table.sort_key, "AttributeType": "S"},
                ],
                KeySchema=[
                    {"AttributeName": table.partition_key, "KeyType": "HASH"},
                    {"AttributeName": table.sort_key, "KeyType": "RANGE"},
                ],
                SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": out.key_ids[d.DATA_KEY.name]},
            )
            ddb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute}
            )
            ddb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )

        for q in d.QUEUES:
            out.queue_urls[q.name], out.dlq_urls[q.name] = self.create_queue(stage, q)

        secrets = self.client("secretsmanager")
        for secret in d.SECRETS:
            secrets.create_secret(
                Name=secret.physical_name(stage), Description=secret.description, SecretString="set-by-the-operator"
            )

        bus = d.resource_name(stage, d.EVENT_BUS)
        events = self.client("events")
        events.create_event_bus(Name=bus)
        for rule in d.EVENT_RULES:
            events.put_rule(
                Name=rule.physical_name(stage),
                EventBusName=bus,
                EventPattern=json.dumps({"source": [rule.source]}),
                Description=rule.description,
            )
            target_queue = d.queue(rule.queue)
            events.put_targets(
                Rule=rule.physical_name(stage),
                EventBusName=bus,
                Targets=[
                    {"Id": rule.queue, "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{target_queue.physical_name(stage)}"}
                ],
            )

        scheduler = self.client("scheduler")
        role_arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{d.resource_name(stage, 'scheduler')}"
        for s in d.SCHEDULES:
            target_queue = d.queue(s.queue)
            target: dict[str, Any] = {
                "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{target_queue.physical_name(stage)}",
                "RoleArn": role_arn,
                "Input": json.dumps(s.payload),
            }
            if target_queue.fifo:
                target["SqsParameters"] = {"MessageGroupId": s.name}
            scheduler.create_schedule(
                Name=s.physical_name(stage),
                ScheduleExpression=s.expression,
                FlexibleTimeWindow={"Mode": "OFF"},
                Target=target,
                State="ENABLED",
                Description=s.description,
            )
        return out

    def create_queue(self, stage: str, q: d.QueueDef) -> tuple[str, str]:
        """A queue and its DLQ with the redrive policy, as the CDK stack declares them."""
        sqs = self.client("sqs")
        fifo = {"FifoQueue": "true", "ContentBasedDeduplication": "false"} if q.fifo else {}
        dlq_url = sqs.create_queue(
            QueueName=q.dlq_physical_name(stage),
            Attributes={
                **fifo,
                "MessageRetentionPeriod": str(q.dlq_retention_days * 86400),
                "SqsManagedSseEnabled": "true",
            },
        )["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = sqs.create_queue(
            QueueName=q.physical_name(stage),
            Attributes={
                **fifo,
                "VisibilityTimeout": str(q.visibility_timeout_s),
                "MessageRetentionPeriod": str(q.retention_days * 86400),
                "SqsManagedSseEnabled": "true",
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": q.max_receive_count}),
            },
        )["QueueUrl"]
        return url, dlq_url
