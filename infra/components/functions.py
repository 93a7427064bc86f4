"""The Lambda functions on the common layer, each with its own log group and least-privilege role."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import definitions as d
from infra.nag import acknowledge

ROOT = Path(__file__).resolve().parents[2]
READ_ACTIONS = frozenset({"dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable"})
RUNTIME = getattr(lambda_.Runtime, "PYTHON_" + d.LAMBDA_PYTHON.replace(".", "_"))


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: str,
        layer_dir: Path,
        table: dynamodb.ITable,
        data_key: kms.IKey,
        tokens_key: kms.IKey,
        queues: dict[str, sqs.Queue],
        bus: events.IEventBus,
        secrets: dict[str, secretsmanager.ISecret],
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, id)
        self.layer = lambda_.LayerVersion(
            self,
            "CommonLayer",
            code=lambda_.Code.from_asset(str(layer_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="clickup-bridge common package and runtime dependencies",
        )
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        for spec in d.FUNCTIONS:
            base = "".join(part.title() for part in spec.name.split("_"))
            name = spec.physical_name(stage)
            log_group = logs.LogGroup(
                self,
                f"{base}Logs",
                log_group_name=f"/aws/lambda/{name}",
                retention=logs.RetentionDays.ONE_MONTH,
                encryption_key=data_key,
                removal_policy=RemovalPolicy.DESTROY,
            )
            role = iam.Role(
                self,
                f"{base}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"{name}: least privilege",
            )
            # Written out instead of AWSLambdaBasicExecutionRole: scoped to this function's own log group.
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
                )
            )
            role.add_to_policy(
                iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"])
            )
            fn = lambda_.Function(
                self,
                f"{base}Function",
                function_name=name,
                description=spec.description,
                runtime=RUNTIME,
                architecture=lambda_.Architecture.ARM_64,
                handler="handler.handler",
                code=lambda_.Code.from_asset(str(ROOT / "functions" / spec.name)),
                layers=[self.layer],
                memory_size=spec.memory_mb,
                timeout=Duration.seconds(spec.timeout_s),
                role=role,
                log_group=log_group,
                tracing=lambda_.Tracing.ACTIVE,
                environment={**environment, "POWERTOOLS_SERVICE_NAME": d.PROJECT, "POWERTOOLS_LOG_LEVEL": "INFO"},
            )
            self._grant(spec, fn, table, tokens_key, queues, bus, secrets)
            acknowledge(
                fn,
                "AwsSolutions-L1",
                f"python{d.LAMBDA_PYTHON} on purpose: the suite, CI and the layer's bytecode use this exact version "
                "(a fresh machine has only it); supported until 2027-06-30, the move up is in README (Deploying).",
            )
            acknowledge(
                role,
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray's PutTraceSegments/PutTelemetryRecords support no resource-level permissions.",
            )
            acknowledge(
                role,
                "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
                "CDK's grant for a CMK-encrypted table; scoped to the one data key of this stack.",
            )
            acknowledge(
                role,
                "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                "CDK's grant for a CMK-encrypted table; scoped to the one data key of this stack.",
            )
            self.functions[spec.name], self.roles[spec.name] = fn, role

        for q in d.QUEUES:
            mapping = d.event_source_mapping(q)
            self.functions[q.consumer].add_event_source(
                sources.SqsEventSource(
                    queues[q.name],
                    batch_size=mapping.batch_size,
                    max_batching_window=Duration.seconds(mapping.maximum_batching_window_s)
                    if mapping.maximum_batching_window_s
                    else None,
                    report_batch_item_failures=mapping.report_batch_item_failures,
                    max_concurrency=mapping.maximum_concurrency,
                )
            )
            # Workers hand a record back early when ClickUp's budget is spent (visibility = reset time).
            queues[q.name].grant(self.functions[q.consumer], "sqs:ChangeMessageVisibility")

    @staticmethod
    def _grant(
        spec: d.FunctionDef,
        fn: lambda_.Function,
        table: dynamodb.ITable,
        tokens_key: kms.IKey,
        queues: dict[str, sqs.Queue],
        bus: events.IEventBus,
        secrets: dict[str, secretsmanager.ISecret],
    ) -> None:
        _check_listed(spec)
        for grant in spec.grants:
            kind, _, rest = grant.partition(":")
            if kind == "table":
                _grant_table(spec, fn, table)
            elif grant == "tokens:describe":
                tokens_key.grant(fn, "kms:DescribeKey")
            elif grant == "tokens:crypt":
                _grant_vault(spec, fn, tokens_key)
            elif kind == "queue" and rest.endswith(":send"):
                queues[rest.removesuffix(":send")].grant_send_messages(fn)
            elif grant == "bus:put":
                bus.grant_put_events_to(fn)
            elif kind == "secret-describe":
                # Whether the secret has a value (GET /health), never the value itself.
                fn.add_to_role_policy(
                    iam.PolicyStatement(actions=["secretsmanager:DescribeSecret"], resources=[secrets[rest].secret_arn])
                )
            elif kind == "secret":
                secrets[rest].grant_read(fn)
            else:
                raise ValueError(f"unknown grant {grant!r} on {spec.name}")


def _check_listed(spec: d.FunctionDef) -> None:
    """ValueError when a function has the table or vault grant but infra/definitions.py does not list what it calls."""
    for needed, table_of in (("table", d.TABLE_ACTIONS), ("tokens:crypt", d.VAULT_PURPOSES)):
        if needed in spec.grants and spec.name not in table_of:
            raise ValueError(
                f"{spec.name} has the {needed!r} grant but no entry in infra/definitions.py's "
                f"{'TABLE_ACTIONS' if needed == 'table' else 'VAULT_PURPOSES'}: list what it calls"
            )


def _grant_table(spec: d.FunctionDef, fn: lambda_.Function, table: dynamodb.ITable) -> None:
    """Only the actions the function's code calls (d.TABLE_ACTIONS), plus the table's CMK (decrypt only for a
    function that only reads)."""
    table.grant(fn, *d.TABLE_ACTIONS[spec.name])
    if table.encryption_key is not None:
        reads_only = set(d.TABLE_ACTIONS[spec.name]) <= READ_ACTIONS
        key = table.encryption_key
        key.grant_decrypt(fn) if reads_only else key.grant_encrypt_decrypt(fn)


def _grant_vault(spec: d.FunctionDef, fn: lambda_.Function, tokens_key: kms.IKey) -> None:
    """Per purpose of the vault's encryption context (bridge/vault/envelope.py: {"org_id", "purpose"}): KMS
    evaluates kms:EncryptionContext:purpose on GenerateDataKey and Decrypt (KMS Developer Guide,
    "kms:EncryptionContext:context-key"), so a function opens only the secrets it needs."""
    purposes = d.VAULT_PURPOSES[spec.name]
    for action, verb in (("kms:GenerateDataKey", "seal"), ("kms:Decrypt", "open")):
        if purposes[verb]:
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    actions=[action],
                    resources=[tokens_key.key_arn],
                    conditions={
                        "StringEquals": {"kms:EncryptionContext:purpose": list(purposes[verb])},
                        "Null": {"kms:EncryptionContext:org_id": "false"},
                    },
                )
            )
