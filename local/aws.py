"""AWS on loopback: moto's server in its own process (local/aws_server.py), provisioned from infra/definitions.py
(the CDK stack's source)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from bridge.core.wire_logs import pin_wire_loggers
from infra import definitions as d
from local.runtime import ACCOUNT_ID

# The stack provisions Secrets Manager (the OAuth client secret) and KMS before any handler is loaded: the SDKs'
# wire loggers are pinned here, before the first AWS call, so `LOG_LEVEL=DEBUG make dev` never prints a secret.
pin_wire_loggers()

REGION = "eu-west-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


@dataclass
class Provisioned:
    stage: str
    queue_urls: dict[str, str] = field(default_factory=dict)
    dlq_urls: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)


class LocalAws:
    """moto's threaded HTTP server in a child process (the default: every process and thread sees one AWS, and
    moto's work runs beside the handlers instead of competing with them), or moto in this process only
    (`in_process`: moto's mock intercepts boto3 without the HTTP hop, several times faster; for a single-threaded
    harness such as the fault runs, which make millions of calls)."""

    def __init__(self, port: int = 0, in_process: bool = False) -> None:
        self.in_process = in_process
        self._port = port
        self._server: subprocess.Popen[str] | None = None
        self._mock: Any = None
        self.endpoint = ""

    def start(self) -> LocalAws:
        if self.in_process:
            from moto import mock_aws

            from local import moto_dynamodb, moto_sqs

            moto_dynamodb.install()
            moto_sqs.install()
            self._mock = mock_aws()
            self._mock.start()
            return self
        root = Path(__file__).resolve().parent.parent
        self._server = subprocess.Popen(
            [sys.executable, "-m", "local.aws_server", "--port", str(self._port)],
            cwd=root,
            stdin=subprocess.PIPE,  # closed when this process ends: the server exits with it
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._server.stdout is not None
        ready = self._server.stdout.readline()
        self._server.stdout.close()
        if not ready:
            raise RuntimeError(f"the local AWS server did not start (exit {self._server.wait()})")
        self.endpoint = f"http://127.0.0.1:{json.loads(ready)['port']}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            assert self._server.stdin is not None
            self._server.stdin.close()
            try:
                self._server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._server.kill()
                self._server.wait()
            self._server = None
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
                # As CloudFormation creates it (no value): the operator stores it (`clickup-bridge secret set`).
                Name=secret.physical_name(stage),
                Description=secret.description,
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
        delivery = d.SCHEDULE_DELIVERY
        schedule_dlq = self.client("sqs").create_queue(
            QueueName=delivery.dlq_physical_name(stage),
            Attributes={
                "MessageRetentionPeriod": str(delivery.dlq_retention_days * 86400),
                "SqsManagedSseEnabled": "true",
            },
        )["QueueUrl"]
        out.dlq_urls[delivery.dlq_name] = schedule_dlq
        for s in d.SCHEDULES:
            target_queue = d.queue(s.queue)
            target: dict[str, Any] = {
                "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{target_queue.physical_name(stage)}",
                "RoleArn": role_arn,
                "Input": s.input,
                "DeadLetterConfig": {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{delivery.dlq_physical_name(stage)}"},
                "RetryPolicy": {
                    "MaximumRetryAttempts": delivery.max_retry_attempts,
                    "MaximumEventAgeInSeconds": delivery.max_event_age_s,
                },
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
        fifo = (
            {"FifoQueue": "true", "ContentBasedDeduplication": str(q.content_based_deduplication).lower()}
            if q.fifo
            else {}
        )
        dlq_url = sqs.create_queue(
            QueueName=q.dlq_physical_name(stage),
            Attributes={
                **({"FifoQueue": "true", "ContentBasedDeduplication": "false"} if q.fifo else {}),
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
