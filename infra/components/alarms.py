"""The alarm topic: every alarm of the stack notifies it (an e-mail subscription from the deployment inputs)."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra import definitions as d
from infra.deployment import NO_EMAIL


class AlarmRouting(Construct):
    """An SNS topic (KMS-encrypted, TLS only) that receives every alarm's ALARM and OK transitions.

    Created last in the stack: it finds the alarms declared by the other constructs. CloudWatch publishes to a
    KMS-encrypted topic only when the key policy lets `cloudwatch.amazonaws.com` use the key (CloudWatch User
    Guide, "Using Amazon CloudWatch alarms" → "Setting up Amazon SNS notifications" / encrypted topics).
    """

    def __init__(self, scope: Construct, id: str, *, stage: str, key: kms.Key, email: str) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=d.resource_name(stage, "alarms"),
            display_name=f"ClickUp bridge {stage} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                resources=["*"],  # a key policy's resource is always the key itself
            )
        )
        if email and email.lower() != NO_EMAIL:
            # AWS sends a confirmation mail: nothing arrives before the address confirms it.
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        action = actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []
        for construct in Stack.of(self).node.find_all():
            if isinstance(construct, cloudwatch.Alarm):
                construct.add_alarm_action(action)
                construct.add_ok_action(action)
                self.alarms.append(construct)
