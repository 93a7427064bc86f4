"""The bridge's DynamoDB table: one table keyed by organisation, PITR, CMK encryption, TTL."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra import definitions as d


class Storage(Construct):
    def __init__(self, scope: Construct, id: str, *, stage: str, key: kms.IKey) -> None:
        super().__init__(scope, id)
        spec = d.MAIN_TABLE
        self.table = dynamodb.Table(
            self,
            "MainTable",
            table_name=spec.physical_name(stage),
            partition_key=dynamodb.Attribute(name=spec.partition_key, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=spec.sort_key, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=spec.ttl_attribute,
            # Kept when the stack (or the resource) is deleted, and DynamoDB refuses DeleteTable itself until
            # someone turns deletion protection off: the data outlives any mistaken `cdk destroy`.
            removal_policy=RemovalPolicy.RETAIN,
            deletion_protection=True,
        )
