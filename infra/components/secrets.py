"""Secrets Manager secrets the operator fills in (the ClickUp OAuth client secret)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import definitions as d
from infra.nag import acknowledge


class Secrets(Construct):
    def __init__(self, scope: Construct, id: str, *, stage: str, key: kms.IKey) -> None:
        super().__init__(scope, id)
        self.secrets: dict[str, secretsmanager.Secret] = {}
        for spec in d.SECRETS:
            base = "".join(part.title() for part in spec.name.split("-"))
            secret = secretsmanager.Secret(
                self,
                f"{base}Secret",
                secret_name=spec.physical_name(stage),
                description=spec.description,
                encryption_key=key,
                removal_policy=RemovalPolicy.RETAIN,
            )
            acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "Issued by ClickUp for our OAuth app and rotated there by an admin, then pasted here; "
                "there is no API to rotate it automatically.",
            )
            # No value from CloudFormation (no GenerateSecretString): "If you omit both GenerateSecretString and
            # SecretString, you create an empty secret" (AWS::SecretsManager::Secret). The operator stores ClickUp's
            # value with `clickup-bridge secret set`; until then GET /health reports it unset.
            cfn = secret.node.default_child
            assert isinstance(cfn, secretsmanager.CfnSecret)
            cfn.add_property_deletion_override("GenerateSecretString")
            self.secrets[spec.name] = secret
