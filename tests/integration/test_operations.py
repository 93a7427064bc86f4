"""Operating a deployment (issue 15): configuration problems in GET /health, `clickup-bridge secret set` and
`clickup-bridge smoke`, run against the local stack's moto (endpoint override) and API."""

from __future__ import annotations

import io
import json
import re
import uuid
from typing import Any

import httpx
import pytest

from bridge.core.config import Settings
from bridge.core.health import configuration_problems, secret_problem
from infra import definitions as d
from infra.operate import client_secret_name, smoke
from local import cli
from local.emulator.seed import DEMO_CLIENT_SECRET
from local.stack import LocalStack


def _settings(stack: LocalStack, **overrides: str) -> Settings:
    return Settings.model_validate({**stack.environment(), **overrides})


def _empty_secret(stack: LocalStack, stage: str) -> str:
    """The stage's client secret as CloudFormation creates it: no value."""
    name = client_secret_name(stage)
    stack.aws.client("secretsmanager").create_secret(Name=name, Description="as the stack creates it")
    return name


def test_health_is_ok_on_a_configured_stack_and_never_shows_the_secret(api: httpx.Client) -> None:
    response = api.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["configuration"] == []
    assert DEMO_CLIENT_SECRET not in response.text


def test_health_names_each_configuration_problem_without_its_value(stack: LocalStack) -> None:
    describe = stack.aws.client("secretsmanager").describe_secret
    unset = _empty_secret(stack, f"ops{uuid.uuid4().hex[:8]}")
    cfg = Settings.model_validate(
        {
            k: v
            for k, v in {**stack.environment(), "CLICKUP_CLIENT_SECRET_NAME": unset}.items()
            if k not in ("CLICKUP_CLIENT_ID", "PUBLIC_BASE_URL", "PORTAL_ORIGIN")  # the functions' defaults
        }
    )
    problems = configuration_problems(cfg, describe)
    assert problems == [
        {"setting": "CLICKUP_CLIENT_ID", "problem": "missing"},
        {"setting": "PUBLIC_BASE_URL", "problem": "placeholder"},  # https://bridge.invalid
        {"setting": "PORTAL_ORIGIN", "problem": "placeholder"},
        {"setting": "CLICKUP_CLIENT_SECRET", "problem": "unset"},
    ]
    odd = _settings(
        stack,
        CLICKUP_CLIENT_ID="changeme",
        PUBLIC_BASE_URL="http://bridge.acme-support.com",  # http is only for loopback
        PORTAL_ORIGIN="https://portal.example.com",
        CLICKUP_CLIENT_SECRET_NAME=f"never-created-{uuid.uuid4().hex[:6]}",
    )
    assert configuration_problems(odd, describe) == [
        {"setting": "CLICKUP_CLIENT_ID", "problem": "placeholder"},
        {"setting": "PUBLIC_BASE_URL", "problem": "not_https"},
        {"setting": "PORTAL_ORIGIN", "problem": "placeholder"},
        {"setting": "CLICKUP_CLIENT_SECRET", "problem": "missing"},
    ]
    assert configuration_problems(_settings(stack), describe) == []  # the local stack's own: all set


def _run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], stdin: str = ""
) -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_secret_set_stores_the_client_secret_and_never_prints_it(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stage = f"ops{uuid.uuid4().hex[:8]}"
    name = _empty_secret(stack, stage)
    secrets = stack.aws.client("secretsmanager")
    assert secret_problem(name, secrets.describe_secret) == "unset"
    value = f"Q{uuid.uuid4().hex.upper()}"
    argv = ["secret", "set", "--stage", stage, "--endpoint-url", stack.aws.endpoint]

    code, output = _run_cli(monkeypatch, capsys, argv, stdin=f"{value}\n")

    assert code == 0 and name in output and value not in output
    assert secrets.get_secret_value(SecretId=name)["SecretString"] == value
    assert secret_problem(name, secrets.describe_secret) is None
    # Again (ClickUp rotated it): a new current version, the old one kept as AWSPREVIOUS.
    assert _run_cli(monkeypatch, capsys, argv, stdin="R0TATED0VALUE\n")[0] == 0
    assert secrets.get_secret_value(SecretId=name)["SecretString"] == "R0TATED0VALUE"
    assert secrets.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] == value


@pytest.mark.parametrize("stdin", ["\n", "changeme\n", "two words\n"])
def test_secret_set_refuses_an_empty_or_placeholder_value(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str
) -> None:
    stage = f"ops{uuid.uuid4().hex[:8]}"
    name = _empty_secret(stack, stage)
    code, output = _run_cli(
        monkeypatch, capsys, ["secret", "set", "--stage", stage, "--endpoint-url", stack.aws.endpoint], stdin
    )
    assert code == 1 and "secret not stored" in output
    assert secret_problem(name, stack.aws.client("secretsmanager").describe_secret) == "unset"


def test_secret_set_for_a_stage_not_deployed_says_so(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["secret", "set", "--stage", "never-deployed", "--endpoint-url", stack.aws.endpoint]
    code, output = _run_cli(monkeypatch, capsys, argv, stdin="K7QW2ZP9X4M1R8T6\n")
    assert code == 1 and "deploy stage 'never-deployed' first" in output and "K7QW2ZP9X4M1R8T6" not in output


# Other tests of the session dead-letter messages on purpose; the smoke check rightly reports a DLQ holding them.
_DLQ_HOLDS = re.compile(r"^its DLQ holds \d+ message\(s\)$")


def _smoke(stack: LocalStack, **kwargs: Any) -> Any:
    return smoke(
        stack.config.stage,
        api_url=stack.api_url,
        endpoint_url=stack.aws.endpoint,
        skip=("lambda", "alarms"),
        **kwargs,
    )


def test_smoke_check_finds_the_local_stack_wired(stack: LocalStack) -> None:
    report = _smoke(stack)
    failed = [c for c in report.checks if c.ok is False and not _DLQ_HOLDS.match(c.detail)]
    assert failed == []
    names = {c.name for c in report.checks if c.ok}
    assert {f"route {r.route_key}" for r in d.ROUTES} <= names
    assert {f"schedule {s.physical_name(stack.config.stage)}" for s in d.SCHEDULES} <= names
    assert {f"rule {r.physical_name(stack.config.stage)}" for r in d.EVENT_RULES} <= names
    assert "health" in names
    assert {c.name for c in report.checks if c.ok is None} == {"functions and event source mappings", "alarm topic"}


def test_smoke_check_reports_what_is_not_wired(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    ghost_route = d.RouteDef("GET", "/api/v1/not-deployed", "api", authorized=True)
    ghost_tick = d.ScheduleDef("ghost-tick", rate_minutes=5, queue="maintenance", payload={"kind": "x"})
    monkeypatch.setattr(d, "ROUTES", (*d.ROUTES, ghost_route))
    monkeypatch.setattr(d, "SCHEDULES", (*d.SCHEDULES, ghost_tick))
    report = _smoke(stack)
    failed = {c.name: c.detail for c in report.checks if c.ok is False and not _DLQ_HOLDS.match(c.detail)}
    assert failed == {
        "route GET /api/v1/not-deployed": "expected the authorizer's 401, got 404",
        f"schedule {ghost_tick.physical_name(stack.config.stage)}": "missing (ResourceNotFoundException)",
    }
    assert not report.ok


def test_smoke_command_exit_code_and_output(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["smoke", "--endpoint-url", stack.aws.endpoint, "--api-url", stack.api_url, "--skip", "lambda,alarms"]
    code, output = _run_cli(monkeypatch, capsys, [*base, "--stage", "never-deployed"])
    assert code == 1
    assert "FAIL queue clickup-bridge-never-deployed-webhook-events: missing" in output
    assert "ok   route POST /webhooks/clickup" in output  # the API answered (it is the local stage's)


def _emitted(text: str) -> set[tuple[str, str, str]]:
    """(namespace, metric, service dimension) of every EMF document printed."""
    out = set()
    for line in text.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        doc = json.loads(line)
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                out.add((directive["Namespace"], metric["Name"], doc.get("service", "")))
    return out


def test_refused_signatures_emit_the_metrics_the_alarm_watches(
    api: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    body = b'{"webhook_id": "never-registered", "event": "taskCreated"}'
    assert api.post("/webhooks/clickup", content=body).json()["error"]["code"] == "missing_signature"
    emitted = _emitted(capsys.readouterr().out)
    assert (d.METRICS_NAMESPACE, "WebhookRejected_missing_signature", d.PROJECT) in emitted
    assert {"WebhookRejected_missing_signature"} <= set(d.SIGNATURE_FAILURE_METRICS)


def test_smoke_check_says_when_alarms_reach_nobody(stack: LocalStack) -> None:
    def alarm_check() -> Any:
        report = smoke(stack.config.stage, api_url=stack.api_url, endpoint_url=stack.aws.endpoint, skip=("lambda",))
        return next(c for c in report.checks if c.name.startswith("alarm topic"))

    assert (alarm_check().ok, alarm_check().detail) == (False, "missing")
    sns = stack.aws.client("sns")
    topic = sns.create_topic(Name=d.resource_name(stack.config.stage, "alarms"))["TopicArn"]
    try:
        nobody = alarm_check()
        assert nobody.ok is False and "alarms reach nobody" in nobody.detail
        queue = stack.aws.client("sqs").create_queue(QueueName=f"alarm-reader-{uuid.uuid4().hex[:6]}")["QueueUrl"]
        arn = stack.aws.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["Attributes"]["QueueArn"])
        heard = alarm_check()
        assert heard.ok is True and heard.detail.startswith("1 confirmed subscription")
    finally:
        sns.delete_topic(TopicArn=topic)


def test_before_the_secret_is_stored_health_says_so_and_connecting_fails_cleanly(
    stack: LocalStack, api: httpx.Client, clickup: httpx.Client, auth: Any, org_id: str, workspace: dict
) -> None:
    from aws_lambda_powertools.utilities import parameters

    from tests import flows

    secrets = stack.aws.client("secretsmanager")
    name = client_secret_name(stack.config.stage)
    # The secret as a fresh deployment has it: created by the stack, no value stored yet.
    secrets.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    secrets.create_secret(Name=name, Description="as the stack creates it")
    parameters.clear_caches()
    try:
        health = api.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "misconfigured"
        assert health.json()["configuration"] == [{"setting": "CLICKUP_CLIENT_SECRET", "problem": "unset"}]
        result = flows.connect(stack, api, clickup, auth(), org_id, workspace["user"]["id"])
        assert result["clickup"] == ["error"] and result["reason"] == ["not_configured"]
    finally:
        secrets.put_secret_value(SecretId=name, SecretString=DEMO_CLIENT_SECRET)
        parameters.clear_caches()
    assert api.get("/health").json()["status"] == "ok"
    assert flows.connect(stack, api, clickup, auth(), org_id, workspace["user"]["id"])["clickup"] == ["connected"]


def _forget_settings(stack: LocalStack) -> None:
    """Every live execution environment reads its configuration again (each has its own `bridge`, local/runtime.py);
    a new one reads it at its cold start, as on Lambda."""
    for function in stack.functions.values():
        for environment in function.live_environments:
            environment.module("bridge.core.config").settings.cache_clear()


def test_without_a_client_id_connecting_answers_503_not_configured(
    api: httpx.Client, auth: Any, stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLICKUP_CLIENT_ID", "")
    _forget_settings(stack)
    try:
        answer = api.get("/clickup/oauth/connect", headers=auth(), params={"return_to": api.base_url.join("/x")})
        assert answer.status_code == 503 and answer.json()["error"]["code"] == "not_configured"
        health = api.get("/health").json()
        assert {"setting": "CLICKUP_CLIENT_ID", "problem": "missing"} in health["configuration"]
    finally:
        monkeypatch.undo()
        _forget_settings(stack)
    assert api.get("/health").json()["status"] == "ok"
