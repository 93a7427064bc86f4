"""Assertions on the synthesized template: encryption, PITR, DLQs, alarms, least privilege, cdk-nag."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from infra import definitions as d
from tests.infra.conftest import resources

pytestmark = pytest.mark.infra


def test_cdk_nag_reports_no_unacknowledged_finding(synthesized: tuple[Any, dict[str, Any]]) -> None:
    assembly, _ = synthesized
    report = json.loads((Path(assembly.directory) / "validation-report.json").read_text())
    failures = [v for plugin in report.get("pluginReports", []) for v in plugin.get("violations", [])]
    assert failures == []


def test_every_acknowledgement_has_a_written_reason(synthesized: tuple[Any, dict[str, Any]]) -> None:
    assembly, _ = synthesized
    metadata = next(Path(assembly.directory).glob("*.metadata.json"))
    acks = [
        (path, rule, reason)
        for path, entries in json.loads(metadata.read_text()).items()
        for e in entries
        if e.get("type") == "aws:cdk:acknowledged-rules"
        for rule, reason in e["data"].items()
    ]
    assert acks, "the stack acknowledges findings; they must be recorded in the assembly"
    for path, rule, reason in acks:
        assert len(reason) >= 30, f"{path} {rule}: the reason is too thin"
        assert "/Stack" not in path.rstrip("/"), "acknowledge on the resource, not the whole stack"


def test_table_has_pitr_cmk_encryption_and_ttl(template: dict[str, Any]) -> None:
    (table,) = resources(template, "AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True and props["SSESpecification"]["SSEType"] == "KMS"
    assert "KMSMasterKeyId" in props["SSESpecification"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_kms_keys_rotate(template: dict[str, Any]) -> None:
    keys = resources(template, "AWS::KMS::Key")
    assert len(keys) == len(d.KEYS)
    assert all(k["Properties"]["EnableKeyRotation"] is True for k in keys.values())


def test_every_queue_has_a_dlq_with_an_alarm(template: dict[str, Any]) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    main = {k: v for k, v in queues.items() if "RedrivePolicy" in v["Properties"]}
    assert len(main) == len(d.QUEUES)
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    alarmed = {
        dim["Value"]["Fn::GetAtt"][0]
        for a in alarms.values()
        for dim in a["Properties"].get("Dimensions", [])  # math expressions have none
        if isinstance(dim["Value"], dict) and "Fn::GetAtt" in dim["Value"]
    }
    for queue in main.values():
        dlq_ref = queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert dlq_ref in alarmed
        assert queues[dlq_ref]["Properties"]["SqsManagedSseEnabled"] is True


def test_functions_run_the_suites_python_on_arm_with_tracing_and_own_log_groups(template: dict[str, Any]) -> None:
    """The runtime is the Python the suite runs on (and CI, and the layer's bytecode): nothing deployed runs on a
    version the tests never ran."""
    running = f"python{sys.version_info.major}.{sys.version_info.minor}"
    functions = resources(template, "AWS::Lambda::Function")
    assert len(functions) == len(d.FUNCTIONS)
    (layer,) = resources(template, "AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleRuntimes"] == [running]
    for fn in functions.values():
        props = fn["Properties"]
        assert props["Runtime"] == running == f"python{d.LAMBDA_PYTHON}" and props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"} and len(props["Layers"]) == 1
        assert "LoggingConfig" in props
    groups = resources(template, "AWS::Logs::LogGroup")
    assert all(g["Properties"]["RetentionInDays"] == 30 for g in groups.values())


def test_roles_have_no_wildcard_resources_except_xray(template: dict[str, Any]) -> None:
    for name, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Resource"] == "*":
                assert all(a.startswith("xray:") for a in _as_list(statement["Action"])), name


def test_routes_and_authorizer_come_from_the_definitions(template: dict[str, Any]) -> None:
    routes = resources(template, "AWS::ApiGatewayV2::Route")
    declared = {r.route_key: r.authorized for r in d.ROUTES}
    assert {
        r["Properties"]["RouteKey"]: r["Properties"].get("AuthorizationType") == "JWT" for r in routes.values()
    } == declared
    (authorizer,) = resources(template, "AWS::ApiGatewayV2::Authorizer").values()
    jwt = authorizer["Properties"]["JwtConfiguration"]
    assert jwt == {"Audience": [d.JWT_AUDIENCE], "Issuer": d.LOCAL_JWT_ISSUER}


def test_workers_report_batch_item_failures(template: dict[str, Any]) -> None:
    mappings = resources(template, "AWS::Lambda::EventSourceMapping")
    assert len(mappings) == len(d.QUEUES)
    assert all(m["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for m in mappings.values())


def _as_list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_an_unhealthy_webhook_raises_an_alarm(template: dict[str, Any]) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    unhealthy = [a["Properties"] for a in alarms if a["Properties"].get("MetricName") == "WebhookUnhealthy"]
    assert len(unhealthy) == 1
    assert unhealthy[0]["Namespace"] == d.METRICS_NAMESPACE and unhealthy[0]["Threshold"] == 1
    assert {"Name": "service", "Value": d.PROJECT} in unhealthy[0]["Dimensions"]


def test_every_schedule_can_deliver_to_its_queue(template: dict[str, Any]) -> None:
    """Scheduler's templated SQS target sends only a message group id: a FIFO target needs content-based
    deduplication (Scheduler API reference, SqsParameters), and each tick's body must differ (the scheduled time)."""
    queues = resources(template, "AWS::SQS::Queue")
    schedules = resources(template, "AWS::Scheduler::Schedule")
    assert len(schedules) == len(d.SCHEDULES)
    for name, schedule in schedules.items():
        target = schedule["Properties"]["Target"]
        queue = queues[target["Arn"]["Fn::GetAtt"][0]]["Properties"]
        if queue.get("FifoQueue"):
            assert target["SqsParameters"]["MessageGroupId"], name
            assert queue.get("ContentBasedDeduplication") is True, f"{name}: {queue['QueueName']}"
        assert json.loads(target["Input"])["tick"] == "<aws.scheduler.scheduled-time>", name


def test_a_schedule_on_a_fifo_queue_without_content_based_deduplication_is_refused() -> None:
    assert d.schedule_delivery_problems() == []
    fifo = d.QueueDef("q", consumer="space_sync", fifo=True)
    tick = d.ScheduleDef("tick", rate_minutes=5, queue="q", payload={"kind": "tick"})
    assert d.schedule_delivery_problems((tick,), (fifo,)) == [
        "tick: FIFO queue 'q' needs content-based deduplication for Scheduler"
    ]
    standard = d.QueueDef("q", consumer="space_sync")
    assert d.schedule_delivery_problems((tick,), (standard,)) == []


def test_the_layer_ships_bytecode_for_every_module(synthesized: tuple[Any, dict[str, Any]]) -> None:
    """Lambda's /opt is read only: without shipped bytecode every cold start compiles the layer from source. The
    synthesized layer asset holds an unchecked-hash .pyc of the runtime's version beside every .py."""
    from infra.layer import missing_bytecode

    assembly, template = synthesized
    (layer,) = resources(template, "AWS::Lambda::LayerVersion").values()
    asset_hash = layer["Properties"]["Content"]["S3Key"].removesuffix(".zip")
    asset = Path(assembly.directory) / f"asset.{asset_hash}"
    sources = list((asset / "python").rglob("*.py"))
    assert len(sources) > 50  # the bridge package is there
    assert missing_bytecode(asset / "python") == []


def test_bytecode_check_sees_missing_and_timestamp_pyc(tmp_path: Path) -> None:
    import py_compile

    from infra.layer import missing_bytecode

    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 2\n")
    py_compile.compile(str(tmp_path / "a.py"))  # timestamp-based: the runtime would stat a source it cannot trust
    assert missing_bytecode(tmp_path) == ["a.py", "b.py"]
    py_compile.compile(str(tmp_path / "a.py"), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    assert missing_bytecode(tmp_path) == ["b.py"]
