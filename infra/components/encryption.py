"""Customer-managed KMS keys: one for data at rest, one for the token vault's envelope encryption."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra import definitions as d


class Encryption(Construct):
    def __init__(self, scope: Construct, id: str, *, stage: str) -> None:
        super().__init__(scope, id)
        self.keys: dict[str, kms.Key] = {}
        for key in d.KEYS:
            self.keys[key.name] = kms.Key(
                self,
                f"{key.name.title()}Key",
                alias=key.alias(stage),
                description=key.description,
                enable_key_rotation=True,
                # The table (deletion protection, retained), its PITR backups and every envelope need these keys:
                # kept with the stack deleted, and a scheduled deletion waits the longest KMS allows (30 days).
                removal_policy=RemovalPolicy.RETAIN,
                pending_window=Duration.days(30),
            )
        # CloudWatch Logs encrypts the functions' log groups with the data key.
        region = Stack.of(self).region
        self.data_key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                principals=[iam.ServicePrincipal(f"logs.{region}.amazonaws.com")],
                resources=["*"],  # a key policy's resource is always the key itself
            )
        )

    @property
    def data_key(self) -> kms.Key:
        return self.keys[d.DATA_KEY.name]

    @property
    def tokens_key(self) -> kms.Key:
        return self.keys[d.TOKENS_KEY.name]
