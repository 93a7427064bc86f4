"""Issue 15 on the template: deployment inputs, alarms routed to a topic, least privilege per function and purpose,
data safety, and limits of their own for the public routes and the workers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra import definitions as d
from infra.components.monitoring import DASHBOARD_METRICS, SIGNATURE_FAILURES
from infra.deployment import INPUTS, DeploymentInputs
from local.stack import LocalStack
from tests.infra.conftest import ROOT, resources

pytestmark = pytest.mark.infra

PROD = DeploymentInputs(
    stage="prod",
    clickup_client_id="K7QW2ZP9X4M1R8T6Y3V5B0N2C4D6F8H1",
    public_base_url="https://bridge.acme-support.com",
    portal_origin="https://portal.acme-support.com",
    jwt_issuer="https://login.acme-support.com/realms/portal",
    jwt_audience="portal-api",
    alarm_email="ops@acme-support.com",
)


@pytest.fixture(scope="module")
def prod_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A stage other than dev, synthesized with every deployment input (cdk-nag applied)."""
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from infra.app import build

    layer = tmp_path_factory.mktemp("layer")
    shutil.copytree(ROOT / "layers/common/bridge", layer / "python" / "bridge")
    app = App(outdir=str(tmp_path_factory.mktemp("cdk.out")))
    stack = build(app, stage=PROD.stage, layer_dir=layer, inputs=PROD)
    app.synth()
    return dict(Template.from_stack(stack).to_json())


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Function name (as in d.FUNCTIONS) → its resource."""
    by_physical = {f.physical_name(d.LOCAL_STAGE): f.name for f in d.FUNCTIONS}
    by_physical |= {f.physical_name(PROD.stage): f.name for f in d.FUNCTIONS}
    return {
        by_physical[fn["Properties"]["FunctionName"]]: fn
        for fn in resources(template, "AWS::Lambda::Function").values()
    }


def _statements_of(template: dict[str, Any], fn_name: str) -> list[dict[str, Any]]:
    role = _functions(template)[fn_name]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        s
        for p in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def _logical(resource_ref: Any) -> str | None:
    if isinstance(resource_ref, dict):
        if "Fn::GetAtt" in resource_ref:
            return str(resource_ref["Fn::GetAtt"][0])
        if "Ref" in resource_ref:
            return str(resource_ref["Ref"])
    return None


def _logical_of(template: dict[str, Any], kind: str, name_prop: str, name: str) -> str:
    return next(k for k, v in resources(template, kind).items() if v["Properties"].get(name_prop) == name)


# -- defect 2: deployment inputs --------------------------------------------------------------------------------------


def test_a_stage_other_than_dev_without_inputs_is_refused_naming_each(tmp_path: Path) -> None:
    (tmp_path / "python").mkdir()
    inputs_env = {env for _, env, _ in INPUTS.values()}
    env = {k: v for k, v in os.environ.items() if k not in inputs_env}
    run = subprocess.run(
        [sys.executable, "infra/app.py", "-c", "stage=prod", "-c", f"layer_dir={tmp_path}", "--outdir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode != 0
    assert "refusing to synthesize stage 'prod'" in run.stderr
    for env_var in ("CLICKUP_CLIENT_ID", "PORTAL_ORIGIN", "JWT_ISSUER", "ALARM_EMAIL"):
        assert env_var in run.stderr
    assert not list(tmp_path.glob("*.template.json"))


def test_the_inputs_reach_the_functions_and_the_authorizer(prod_template: dict[str, Any]) -> None:
    for fn in _functions(prod_template).values():
        env = fn["Properties"]["Environment"]["Variables"]
        assert env["CLICKUP_CLIENT_ID"] == PROD.clickup_client_id
        assert env["PUBLIC_BASE_URL"] == PROD.public_base_url
        assert env["PORTAL_ORIGIN"] == PROD.portal_origin
    (authorizer,) = resources(prod_template, "AWS::ApiGatewayV2::Authorizer").values()
    assert authorizer["Properties"]["JwtConfiguration"] == {"Audience": ["portal-api"], "Issuer": PROD.jwt_issuer}


def test_without_a_custom_domain_the_public_url_is_the_apis_own_endpoint(template: dict[str, Any]) -> None:
    (api,) = resources(template, "AWS::ApiGatewayV2::Api")
    for fn in _functions(template).values():
        assert fn["Properties"]["Environment"]["Variables"]["PUBLIC_BASE_URL"] == {"Fn::GetAtt": [api, "ApiEndpoint"]}


def test_the_client_secret_is_created_empty_and_only_oauth_reads_it(template: dict[str, Any]) -> None:
    (logical, secret), *_ = resources(template, "AWS::SecretsManager::Secret").items()
    assert "GenerateSecretString" not in secret["Properties"] and "SecretString" not in secret["Properties"]
    for spec in d.FUNCTIONS:
        on_secret = {
            a for s in _statements_of(template, spec.name) if _logical(s["Resource"]) == logical for a in _actions(s)
        }
        if spec.name == "oauth":
            assert "secretsmanager:GetSecretValue" in on_secret
        elif spec.name == "api":
            assert on_secret == {"secretsmanager:DescribeSecret"}  # GET /health: set or not, never the value
        else:
            assert on_secret == set(), spec.name


# -- defect 3: alarms notify someone ------------------------------------------------------------------------------


def test_every_alarm_notifies_the_encrypted_tls_only_alarm_topic(template: dict[str, Any]) -> None:
    (topic_id, topic), *_ = resources(template, "AWS::SNS::Topic").items()
    assert "KmsMasterKeyId" in topic["Properties"]
    (policy,) = resources(template, "AWS::SNS::TopicPolicy").values()
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 30
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}], name
        assert alarm["Properties"]["OKActions"] == [{"Ref": topic_id}], name
        assert len(alarm["Properties"]["AlarmDescription"]) > 60, name  # what it means and what to do
    assert resources(template, "AWS::SNS::Subscription") == {}  # dev/local: no address given


def test_the_alarm_address_is_subscribed(prod_template: dict[str, Any]) -> None:
    (subscription,) = resources(prod_template, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == PROD.alarm_email


def _alarms_by_name(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    prefix = d.resource_name(d.LOCAL_STAGE, "")
    return {
        a["Properties"]["AlarmName"].removeprefix(prefix): a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
    }


def _metric_names(alarm: dict[str, Any]) -> set[str]:
    if "MetricName" in alarm:
        return {alarm["MetricName"]}
    return {m["MetricStat"]["Metric"]["MetricName"] for m in alarm.get("Metrics", []) if "MetricStat" in m}


def test_the_alarms_operators_expect(template: dict[str, Any]) -> None:
    alarms = _alarms_by_name(template)
    functions = _functions(template)
    for spec in d.FUNCTIONS:
        logical = next(k for k, v in resources(template, "AWS::Lambda::Function").items() if v is functions[spec.name])
        for suffix, metric in (("errors", "Errors"), ("throttles", "Throttles")):
            alarm = alarms[f"{spec.name}-{suffix}"]
            assert (alarm["Namespace"], alarm["MetricName"], alarm["Threshold"]) == ("AWS/Lambda", metric, 1)
            assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": logical}}]
    api = alarms["api-5xx"]
    assert (api["Namespace"], api["MetricName"]) == ("AWS/ApiGateway", "5xx")
    assert _metric_names(alarms["webhook-signature-failures"]) == set(SIGNATURE_FAILURES)
    assert _metric_names(alarms["clickup-rate-limited"]) == {"ClickUpRateLimited"}
    assert _metric_names(alarms["dynamodb-throttles"]) == {"ReadThrottleEvents", "WriteThrottleEvents"}
    for q in d.QUEUES:
        age = alarms[f"{q.name}-oldest-message-age"]
        assert age["MetricName"] == "ApproximateAgeOfOldestMessage" and age["Threshold"] == d.QUEUE_AGE_ALARM_S[q.name]
        queue_logical = _logical_of(template, "AWS::SQS::Queue", "QueueName", q.physical_name(d.LOCAL_STAGE))
        assert age["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue_logical, "QueueName"]}
    failed_ticks = alarms["schedule-deliveries-failed"]
    dlq = _logical_of(template, "AWS::SQS::Queue", "QueueName", d.SCHEDULE_DELIVERY.dlq_physical_name(d.LOCAL_STAGE))
    assert failed_ticks["Dimensions"][0]["Value"] == {"Fn::GetAtt": [dlq, "QueueName"]}


def test_one_dashboard_shows_the_bridges_own_metrics(template: dict[str, Any]) -> None:
    (dashboard,) = resources(template, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in {m for metrics in DASHBOARD_METRICS.values() for m in metrics}:
        assert f'\\"{d.METRICS_NAMESPACE}\\",\\"{metric}\\"' in body, metric


def test_schedules_retry_then_dead_letter_to_a_standard_queue(template: dict[str, Any]) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    dlq = _logical_of(template, "AWS::SQS::Queue", "QueueName", d.SCHEDULE_DELIVERY.dlq_physical_name(d.LOCAL_STAGE))
    assert "FifoQueue" not in queues[dlq]["Properties"]  # Scheduler refuses a FIFO DLQ
    schedules = resources(template, "AWS::Scheduler::Schedule").values()
    assert len(schedules) == len(d.SCHEDULES)
    for schedule in schedules:
        target = schedule["Properties"]["Target"]
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}}
        assert target["RetryPolicy"] == {
            "MaximumRetryAttempts": d.SCHEDULE_DELIVERY.max_retry_attempts,
            "MaximumEventAgeInSeconds": d.SCHEDULE_DELIVERY.max_event_age_s,
        }
        role = target["RoleArn"]["Fn::GetAtt"][0]
        may_send = [
            s
            for p in resources(template, "AWS::IAM::Policy").values()
            if {"Ref": role} in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            if _logical(s["Resource"]) == dlq and "sqs:SendMessage" in _actions(s)
        ]
        assert may_send


def test_the_local_schedules_retry_and_dead_letter_as_the_template_says(
    stack: LocalStack, template: dict[str, Any]
) -> None:
    queue_names = {k: v["Properties"]["QueueName"] for k, v in resources(template, "AWS::SQS::Queue").items()}
    scheduler = stack.aws.client("scheduler")
    for schedule in resources(template, "AWS::Scheduler::Schedule").values():
        declared = schedule["Properties"]["Target"]
        live = scheduler.get_schedule(Name=schedule["Properties"]["Name"])["Target"]
        assert (
            live["DeadLetterConfig"]["Arn"].rsplit(":", 1)[1]
            == queue_names[declared["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]]
        )
        assert live["RetryPolicy"] == declared["RetryPolicy"]


# -- defect 5: least privilege per function and purpose ------------------------------------------------------------

_ITEM = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"}
_WRITER = _ITEM | {"dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem"}
EXPECTED: dict[str, tuple[set[str], dict[str, set[str]]]] = {
    # function: (DynamoDB actions on the table, {KMS action on the tokens key: purposes})
    # api: opens the token to read a task being linked and a list's custom fields (issue 19)
    "api": (_WRITER | {"dynamodb:DescribeTable"}, {"kms:DescribeKey": set(), "kms:Decrypt": {"clickup-token"}}),
    "oauth": (
        _WRITER,
        {
            "kms:GenerateDataKey": {"clickup-token", "clickup-webhook-secret", "portal-webhook-secret"},
            "kms:Decrypt": {"clickup-token"},
        },
    ),
    "space_sync": (_WRITER, {"kms:Decrypt": {"clickup-token"}}),
    "webhook": ({"dynamodb:GetItem"}, {"kms:Decrypt": {"clickup-webhook-secret"}}),
    "webhook_process": (_WRITER, {"kms:Decrypt": {"clickup-token"}}),
    "maintenance": (_WRITER, {"kms:GenerateDataKey": {"clickup-webhook-secret"}, "kms:Decrypt": {"clickup-token"}}),
    "portal_delivery": ({"dynamodb:GetItem"}, {"kms:Decrypt": {"portal-webhook-secret"}}),
    "task_create": (_WRITER, {"kms:Decrypt": {"clickup-token"}}),
}


def test_each_function_may_use_exactly_its_table_actions_and_vault_purposes(template: dict[str, Any]) -> None:
    (table,) = resources(template, "AWS::DynamoDB::Table")
    tokens = _logical_of(template, "AWS::KMS::Alias", "AliasName", d.TOKENS_KEY.alias(d.LOCAL_STAGE))
    tokens_key = resources(template, "AWS::KMS::Alias")[tokens]["Properties"]["TargetKeyId"]["Fn::GetAtt"][0]
    assert set(EXPECTED) == {f.name for f in d.FUNCTIONS}
    for name, (table_actions, kms_purposes) in EXPECTED.items():
        statements = _statements_of(template, name)
        on_table = {
            a
            for s in statements
            for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
            if _logical(r) == table
            for a in _actions(s)
        }
        assert on_table == table_actions, name
        on_key: dict[str, set[str]] = {}
        for s in statements:
            if _logical(s["Resource"]) != tokens_key:
                continue
            purposes = s.get("Condition", {}).get("StringEquals", {}).get("kms:EncryptionContext:purpose", [])
            if s.get("Condition"):
                assert s["Condition"]["Null"] == {"kms:EncryptionContext:org_id": "false"}, name
            for action in _actions(s):
                assert action == "kms:DescribeKey" or purposes, f"{name}: {action} on the tokens key for any purpose"
                on_key.setdefault(action, set()).update(purposes)
        assert on_key == kms_purposes, name
    every = {a for name in EXPECTED for s in _statements_of(template, name) for a in _actions(s)}
    assert not {"dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:GetRecords", "dynamodb:GetShardIterator"} & every


# -- defect 8: data safety ---------------------------------------------------------------------------------------------


def test_the_table_and_its_keys_outlive_a_deleted_stack(template: dict[str, Any]) -> None:
    (table,) = resources(template, "AWS::DynamoDB::Table").values()
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    for key in resources(template, "AWS::KMS::Key").values():
        assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Retain", "Retain")
        assert key["Properties"]["PendingWindowInDays"] == 30


# -- defect 9: limits of their own -----------------------------------------------------------------------------------


def test_each_route_has_its_own_throttle(template: dict[str, Any]) -> None:
    (stage,) = resources(template, "AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["RouteSettings"]
    assert set(settings) == {r.route_key for r in d.ROUTES}
    for route in d.ROUTES:
        expected = d.route_throttle(route)
        assert settings[route.route_key] == {
            "ThrottlingRateLimit": expected.rate_per_s,
            "ThrottlingBurstLimit": expected.burst,
        }
    assert settings["POST /webhooks/clickup"]["ThrottlingRateLimit"] == d.WEBHOOK_THROTTLE.rate_per_s
    assert settings["GET /api/v1/me"]["ThrottlingRateLimit"] == d.PORTAL_THROTTLE.rate_per_s
    assert d.WEBHOOK_THROTTLE != d.PORTAL_THROTTLE != d.PUBLIC_THROTTLE
    # A stage names routes by key: CloudFormation must create them first.
    assert set(resources(template, "AWS::ApiGatewayV2::Route")) <= set(stage["DependsOn"])


def test_every_worker_is_bounded(template: dict[str, Any]) -> None:
    mappings = resources(template, "AWS::Lambda::EventSourceMapping").values()
    bounds = [m["Properties"]["ScalingConfig"]["MaximumConcurrency"] for m in mappings]
    assert len(bounds) == len(d.QUEUES) and all(2 <= b <= 10 for b in bounds)
    # Together far below the account's default 1,000: the API and the webhook ack always find capacity.
    assert sum(bounds) <= 50
