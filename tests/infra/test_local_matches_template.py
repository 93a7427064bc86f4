"""The local stack's AWS resources are the template's: same names, keys, redrive policies, encryption, schedules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import definitions as d
from local.stack import LocalStack
from tests.infra.conftest import resources

pytestmark = pytest.mark.infra


def _logical_to_name(template: dict[str, Any], kind: str, name_prop: str) -> dict[str, str]:
    return {k: v["Properties"][name_prop] for k, v in resources(template, kind).items()}


def test_tables(stack: LocalStack, template: dict[str, Any]) -> None:
    ddb = stack.aws.client("dynamodb")
    declared = resources(template, "AWS::DynamoDB::Table").values()
    assert sorted(t["Properties"]["TableName"] for t in declared) == sorted(ddb.list_tables()["TableNames"])
    for table in declared:
        props = table["Properties"]
        live = ddb.describe_table(TableName=props["TableName"])["Table"]
        assert live["KeySchema"] == props["KeySchema"]
        assert sorted(live["AttributeDefinitions"], key=str) == sorted(props["AttributeDefinitions"], key=str)
        assert live["SSEDescription"]["Status"] == "ENABLED" and live["SSEDescription"]["SSEType"] == "KMS"
        ttl = ddb.describe_time_to_live(TableName=props["TableName"])["TimeToLiveDescription"]
        assert ttl["AttributeName"] == props["TimeToLiveSpecification"]["AttributeName"]
        pitr = ddb.describe_continuous_backups(TableName=props["TableName"])["ContinuousBackupsDescription"]
        assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_queues_and_redrive_policies(stack: LocalStack, template: dict[str, Any]) -> None:
    sqs = stack.aws.client("sqs")
    declared = resources(template, "AWS::SQS::Queue")
    names = {k: v["Properties"]["QueueName"] for k, v in declared.items()}
    live_names = {url.rsplit("/", 1)[1] for url in sqs.list_queues()["QueueUrls"]}
    assert set(names.values()) <= live_names
    extra = live_names - set(names.values())
    assert all("flaky" in n for n in extra), f"local queues not in the template: {extra}"
    for logical, queue in declared.items():
        props = queue["Properties"]
        url = sqs.get_queue_url(QueueName=props["QueueName"])["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attrs.get("FifoQueue", "false") == str(props.get("FifoQueue", False)).lower(), logical
        if props.get("FifoQueue"):
            assert attrs["ContentBasedDeduplication"] == str(props.get("ContentBasedDeduplication", False)).lower()
        assert attrs["MessageRetentionPeriod"] == str(props["MessageRetentionPeriod"])
        assert attrs["SqsManagedSseEnabled"] == "true" and props["SqsManagedSseEnabled"] is True
        if "RedrivePolicy" in props:
            assert attrs["VisibilityTimeout"] == str(props["VisibilityTimeout"])
            live = json.loads(attrs["RedrivePolicy"])
            dlq_logical = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            assert live["maxReceiveCount"] == props["RedrivePolicy"]["maxReceiveCount"]
            assert live["deadLetterTargetArn"].rsplit(":", 1)[1] == names[dlq_logical]


def test_kms_keys_aliases_and_rotation(stack: LocalStack, template: dict[str, Any]) -> None:
    kms = stack.aws.client("kms")
    declared = {a["Properties"]["AliasName"] for a in resources(template, "AWS::KMS::Alias").values()}
    live = {
        a["AliasName"]: a.get("TargetKeyId")
        for a in kms.list_aliases()["Aliases"]
        if not a["AliasName"].startswith("alias/aws/")
    }
    assert set(live) == declared
    for key_id in live.values():
        assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True


def test_event_bus(stack: LocalStack, template: dict[str, Any]) -> None:
    declared = {b["Properties"]["Name"] for b in resources(template, "AWS::Events::EventBus").values()}
    live = {b["Name"] for b in stack.aws.client("events").list_event_buses()["EventBuses"]} - {"default"}
    assert live == declared


def test_schedules(stack: LocalStack, template: dict[str, Any]) -> None:
    scheduler = stack.aws.client("scheduler")
    queue_names = _logical_to_name(template, "AWS::SQS::Queue", "QueueName")
    schedules = resources(template, "AWS::Scheduler::Schedule").values()
    declared = {s["Properties"]["Name"]: s["Properties"] for s in schedules}
    assert {s["Name"] for s in scheduler.list_schedules()["Schedules"]} == set(declared)
    for name, props in declared.items():
        live = scheduler.get_schedule(Name=name)
        assert live["ScheduleExpression"] == props["ScheduleExpression"]
        target = props["Target"]
        assert live["Target"]["Arn"].rsplit(":", 1)[1] == queue_names[target["Arn"]["Fn::GetAtt"][0]]
        assert json.loads(live["Target"]["Input"]) == json.loads(target["Input"])
        assert live["Target"].get("SqsParameters", {}).get("MessageGroupId") == target.get("SqsParameters", {}).get(
            "MessageGroupId"
        )


def test_secrets(stack: LocalStack, template: dict[str, Any]) -> None:
    declared = {s["Properties"]["Name"] for s in resources(template, "AWS::SecretsManager::Secret").values()}
    live = {s["Name"] for s in stack.aws.client("secretsmanager").list_secrets()["SecretList"]}
    assert live == declared


def test_event_source_mappings(stack: LocalStack, template: dict[str, Any]) -> None:
    """The local pollers run the template's mappings: queue, function, batch size and window, partial batch
    responses, maximum concurrency; and each passes the checks Lambda makes (visibility timeout vs timeout...)."""
    queue_names = _logical_to_name(template, "AWS::SQS::Queue", "QueueName")
    function_names = _logical_to_name(template, "AWS::Lambda::Function", "FunctionName")
    declared = {}
    for mapping in resources(template, "AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        queue = queue_names[props["EventSourceArn"]["Fn::GetAtt"][0]]
        declared[queue] = {
            "function": function_names[props["FunctionName"]["Ref"]],
            "batch_size": props.get("BatchSize", 10),
            "window": props.get("MaximumBatchingWindowInSeconds", 0),
            "report_batch_item_failures": "ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
            "maximum_concurrency": props.get("ScalingConfig", {}).get("MaximumConcurrency"),
        }
    live = {}
    for poller in stack.pollers.values():
        if poller.queue.name == "flaky":
            continue
        m = poller.mapping
        live[poller.queue.physical_name(stack.config.stage)] = {
            "function": poller.function.definition.physical_name(stack.config.stage),
            "batch_size": m.batch_size,
            "window": m.maximum_batching_window_s,
            "report_batch_item_failures": m.report_batch_item_failures,
            "maximum_concurrency": m.maximum_concurrency,
        }
    assert live == declared


def test_event_rules_and_their_targets(stack: LocalStack, template: dict[str, Any]) -> None:
    """EventBridge rule -> SQS as the template declares it: the bus, the pattern, the target queue, and the
    event delivered as it is (no Input, InputPath or InputTransformer on either side; a FIFO target would need
    SqsParameters.MessageGroupId)."""
    events = stack.aws.client("events")
    queue_names = _logical_to_name(template, "AWS::SQS::Queue", "QueueName")
    buses = _logical_to_name(template, "AWS::Events::EventBus", "Name")
    declared = resources(template, "AWS::Events::Rule").values()
    assert len(declared) == len(d.EVENT_RULES)
    for rule in declared:
        props = rule["Properties"]
        bus = buses[props["EventBusName"]["Ref"]]
        live = events.describe_rule(Name=props["Name"], EventBusName=bus)
        assert json.loads(live["EventPattern"]) == props["EventPattern"]
        assert live.get("State", "ENABLED") == props.get("State", "ENABLED")
        live_targets = events.list_targets_by_rule(Rule=props["Name"], EventBusName=bus)["Targets"]
        assert len(live_targets) == len(props["Targets"]) == 1
        (target,), (live_target,) = props["Targets"], live_targets
        assert live_target["Arn"].rsplit(":", 1)[1] == queue_names[target["Arn"]["Fn::GetAtt"][0]]
        for shaping in ("Input", "InputPath", "InputTransformer", "SqsParameters"):
            assert shaping not in target and shaping not in live_target, shaping
