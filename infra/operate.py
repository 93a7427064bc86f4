"""Operator commands for a deployed stage: store the ClickUp client secret, and the post-deploy smoke check.

`clickup-bridge secret set --stage S` and `clickup-bridge smoke --stage S` (local/cli.py) call these. Both talk to
AWS with the caller's credentials through boto3; `endpoint_url` (or boto3's own `AWS_ENDPOINT_URL`) addresses
another endpoint, such as the local stack's moto. Neither creates anything in ClickUp, and no secret value is ever
printed or put in an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from infra import definitions as d

_PLACEHOLDER = re.compile(r"^(changeme|change-me|placeholder|todo|tbd|xxx+|secret|your[-_ ].*|<.*>)$", re.I)
PROBE_UUID = "00000000-0000-4000-8000-000000000000"  # a well-formed ticket id no organisation has
SKIPPABLE = frozenset({"lambda", "alarms"})


class OperateError(RuntimeError):
    """An operator command could not do what was asked (the message says why, never with a secret in it)."""


def _client(service: str, endpoint_url: str | None, region: str | None) -> Any:
    import boto3

    from infra.ops import local_credentials

    return boto3.client(
        service, endpoint_url=endpoint_url or None, region_name=region or None, **local_credentials(endpoint_url)
    )


# -- the ClickUp OAuth client secret ------------------------------------------------------------------------------


def client_secret_name(stage: str) -> str:
    """The Secrets Manager name of `stage`'s ClickUp OAuth client secret (d.SECRETS, as the stack names it)."""
    spec = next(s for s in d.SECRETS if s.name == "clickup-oauth-client-secret")
    return spec.physical_name(stage)


def store_client_secret(
    stage: str, value: str, *, endpoint_url: str | None = None, region: str | None = None
) -> dict[str, str]:
    """Store `value` as the current version of `stage`'s ClickUp client secret (Secrets Manager PutSecretValue:
    a new version becomes AWSCURRENT, the previous one AWSPREVIOUS; the functions see it within 5 minutes, their
    cache's age). Returns `{"name", "version_id"}`.

    Raises OperateError when the value is empty or a placeholder, or the secret does not exist (the stack is
    not deployed, or another region/account is addressed).
    """
    value = value.strip()
    if not value or any(c.isspace() for c in value) or _PLACEHOLDER.match(value):
        raise OperateError(
            "the value is empty, contains whitespace or is a placeholder: paste the client secret "
            "of your ClickUp OAuth app (ClickUp: Settings → Integrations → ClickUp API)"
        )
    name = client_secret_name(stage)
    secrets = _client("secretsmanager", endpoint_url, region)
    try:
        answer = secrets.put_secret_value(SecretId=name, SecretString=value)
    except Exception as exc:  # noqa: BLE001 (mapped to what the operator can do; botocore's text has no value)
        response = getattr(exc, "response", None)  # None on a botocore timeout
        code = (response.get("Error", {}) if isinstance(response, dict) else {}).get("Code", type(exc).__name__)
        if code == "ResourceNotFoundException":
            raise OperateError(
                f"no secret {name!r} here: deploy stage {stage!r} first (make deploy), "
                "or address its account and region"
            ) from None
        raise OperateError(f"Secrets Manager refused to store {name!r}: {code}") from None
    return {"name": name, "version_id": str(answer.get("VersionId", ""))}


# -- the smoke check --------------------------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool | None  # None: skipped
    detail: str = ""


@dataclass
class SmokeReport:
    stage: str
    api_url: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok is not False for c in self.checks)

    def lines(self) -> list[str]:
        label = {True: "ok  ", False: "FAIL", None: "skip"}
        out = [f"smoke check of stage {self.stage!r} at {self.api_url}"]
        out += [f"  {label[c.ok]} {c.name}{': ' + c.detail if c.detail else ''}" for c in self.checks]
        failed = sum(c.ok is False for c in self.checks)
        out.append("all wired" if self.ok else f"{failed} check(s) failed")
        return out


def api_url_of(stage: str, *, endpoint_url: str | None = None, region: str | None = None) -> str:
    """The stage's public URL, from its CloudFormation stack's outputs (PublicBaseUrl, else ApiUrl)."""
    cfn = _client("cloudformation", endpoint_url, region)
    stack_name = f"ClickUpBridge-{stage}"
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except Exception as exc:  # noqa: BLE001
        raise OperateError(
            f"stack {stack_name} not found ({type(exc).__name__}): deploy it, or pass --api-url"
        ) from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    url = outputs.get("PublicBaseUrl") or outputs.get("ApiUrl")
    if not url:
        raise OperateError(f"stack {stack_name} has no ApiUrl output: pass --api-url")
    return str(url).rstrip("/")


def _probe_path(path: str) -> str:
    return path.replace("{ticket_id}", PROBE_UUID).replace("{customer_id}", "smoke-check")


def _route_check(http: Any, route: d.RouteDef) -> Check:
    """A route is wired when API Gateway sends it to the function: a JWT route answers API Gateway's own 401 without
    a token (a route that is not there answers 404 Not Found); each public route answers as its function does to a
    request that changes nothing."""
    path = _probe_path(route.path)
    name = f"route {route.route_key}"
    try:
        if route.authorized:
            response = http.request(route.method, path)
            ok = response.status_code == 401 and _json(response) == {"message": "Unauthorized"}
            return Check(name, ok, "" if ok else f"expected the authorizer's 401, got {response.status_code}")
        if route.route_key == "GET /health":
            response = http.get(path)
            return Check(name, response.status_code in (200, 503), f"{response.status_code}")
        if route.function == "webhook":
            # No X-Signature: refused (401 missing_signature) before any lookup; nothing is queued.
            body = b'{"webhook_id": "smoke-check"}'
            response = http.post(path, content=body, headers={"Content-Type": "application/json"})
            code = (_json(response) or {}).get("error", {}).get("code")
            ok = response.status_code == 401 and code == "missing_signature"
            return Check(name, ok, f"{response.status_code} {code}")
        if route.route_key == "GET /docs":
            # The documentation page, or 404 `docs_disabled` where the stage switched it off (API_DOCS_ENABLED)
            response = http.get(path)
            code = (_json(response) or {}).get("error", {}).get("code") if response.status_code == 404 else None
            ok = response.status_code == 200 or code == "docs_disabled"
            return Check(name, ok, f"{response.status_code}{' ' + code if code else ''}")
        if route.route_key == "GET /clickup/oauth/callback":
            # No state: the browser is sent to the portal with reason=state_invalid; nothing is consumed.
            response = http.get(path)
            location = response.headers.get("location", "")
            ok = response.status_code == 302 and "reason=state_invalid" in location
            return Check(name, ok, f"{response.status_code} → {location.split('?')[0] or '(no Location)'}")
    except Exception as exc:  # noqa: BLE001 (an unreachable API is a failed check)
        return Check(name, False, f"{type(exc).__name__}")
    return Check(name, None, "no probe for this public route")


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _health_check(http: Any) -> Check:
    try:
        response = http.get("/health")
        body = _json(response) or {}
    except Exception as exc:  # noqa: BLE001
        return Check("health", False, f"API unreachable ({type(exc).__name__})")
    if response.status_code == 200 and body.get("status") == "ok":
        return Check("health", True, f"version {body.get('version')}, stage {body.get('stage')}")
    down = [c["name"] for c in body.get("dependencies", []) if c.get("status") != "ok"]
    config = [f"{p['setting']} {p['problem']}" for p in body.get("configuration", [])]
    return Check("health", False, f"{response.status_code} {body.get('status')}: " + ", ".join(down + config))


def _queue_checks(stage: str, sqs: Any) -> tuple[list[Check], dict[str, str]]:
    checks: list[Check] = []
    arns: dict[str, str] = {}
    for q in d.QUEUES:
        name = q.physical_name(stage)
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            dlq_url = sqs.get_queue_url(QueueName=q.dlq_physical_name(stage))["QueueUrl"]
            dlq = sqs.get_queue_attributes(
                QueueUrl=dlq_url, AttributeNames=["QueueArn", "ApproximateNumberOfMessages"]
            )["Attributes"]
        except Exception as exc:  # noqa: BLE001
            checks.append(Check(f"queue {name}", False, f"missing ({type(exc).__name__})"))
            continue
        arns[q.name] = attrs["QueueArn"]
        redrive = json.loads(attrs.get("RedrivePolicy") or "{}")
        problems = []
        if redrive.get("deadLetterTargetArn") != dlq["QueueArn"]:
            problems.append("no redrive to its DLQ")
        if int(dlq.get("ApproximateNumberOfMessages", "0")):
            problems.append(f"its DLQ holds {dlq['ApproximateNumberOfMessages']} message(s)")
        checks.append(Check(f"queue {name}", not problems, "; ".join(problems) or f"DLQ {q.dlq_physical_name(stage)}"))
    return checks, arns


def _schedule_checks(stage: str, scheduler: Any, sqs: Any, queue_arns: dict[str, str]) -> list[Check]:
    checks: list[Check] = []
    delivery = d.SCHEDULE_DELIVERY
    try:
        dlq_url = sqs.get_queue_url(QueueName=delivery.dlq_physical_name(stage))["QueueUrl"]
        dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn", "ApproximateNumberOfMessages"])
        dlq_attrs = dlq["Attributes"]
        held = int(dlq_attrs.get("ApproximateNumberOfMessages", "0"))
        checks.append(Check(f"queue {delivery.dlq_physical_name(stage)}", held == 0, f"{held} failed tick(s)"))
        dlq_arn = dlq_attrs["QueueArn"]
    except Exception as exc:  # noqa: BLE001
        checks.append(Check(f"queue {delivery.dlq_physical_name(stage)}", False, f"missing ({type(exc).__name__})"))
        dlq_arn = ""
    for s in d.SCHEDULES:
        name = s.physical_name(stage)
        try:
            live = scheduler.get_schedule(Name=name)
        except Exception as exc:  # noqa: BLE001
            checks.append(Check(f"schedule {name}", False, f"missing ({type(exc).__name__})"))
            continue
        target = live.get("Target", {})
        problems = []
        if live.get("State") != "ENABLED":
            problems.append(f"state {live.get('State')}")
        if target.get("Arn") != queue_arns.get(s.queue):
            problems.append(f"target is not {d.queue(s.queue).physical_name(stage)}")
        if d.queue(s.queue).fifo and not target.get("SqsParameters", {}).get("MessageGroupId"):
            problems.append("no message group id for its FIFO queue")
        if not dlq_arn or target.get("DeadLetterConfig", {}).get("Arn") != dlq_arn:
            problems.append("no dead-letter queue")
        if not target.get("RetryPolicy"):
            problems.append("no retry policy")
        checks.append(
            Check(f"schedule {name}", not problems, "; ".join(problems) or f"{live.get('ScheduleExpression')}")
        )
    return checks


def _rule_checks(stage: str, events: Any, queue_arns: dict[str, str]) -> list[Check]:
    checks: list[Check] = []
    bus = d.resource_name(stage, d.EVENT_BUS)
    for rule in d.EVENT_RULES:
        name = rule.physical_name(stage)
        try:
            state = events.describe_rule(Name=name, EventBusName=bus).get("State")
            targets = [t["Arn"] for t in events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]]
        except Exception as exc:  # noqa: BLE001
            checks.append(Check(f"rule {name}", False, f"missing ({type(exc).__name__})"))
            continue
        ok = state == "ENABLED" and queue_arns.get(rule.queue) in targets
        checks.append(Check(f"rule {name}", ok, f"{state} → {', '.join(t.rsplit(':', 1)[-1] for t in targets)}"))
    return checks


def _lambda_checks(stage: str, lambda_: Any, queue_arns: dict[str, str]) -> list[Check]:
    checks: list[Check] = []
    for fn in d.FUNCTIONS:
        name = fn.physical_name(stage)
        try:
            conf = lambda_.get_function_configuration(FunctionName=name)
            mappings = lambda_.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
        except Exception as exc:  # noqa: BLE001
            checks.append(Check(f"function {name}", False, f"missing ({type(exc).__name__})"))
            continue
        problems = []
        if conf.get("State") != "Active" or conf.get("LastUpdateStatus") not in (None, "Successful"):
            problems.append(f"state {conf.get('State')}/{conf.get('LastUpdateStatus')}")
        for q in d.QUEUES:
            if q.consumer == fn.name:
                live = [m for m in mappings if m.get("EventSourceArn") == queue_arns.get(q.name)]
                if not live or live[0].get("State") != "Enabled":
                    problems.append(f"not polling {q.physical_name(stage)}")
        checks.append(Check(f"function {name}", not problems, "; ".join(problems)))
    return checks


def _alarm_checks(stage: str, sns: Any) -> list[Check]:
    topic = d.resource_name(stage, "alarms")
    pages = sns.get_paginator("list_topics").paginate()
    arns = [t["TopicArn"] for page in pages for t in page.get("Topics", []) if t["TopicArn"].endswith(f":{topic}")]
    if not arns:
        return [Check(f"alarm topic {topic}", False, "missing")]
    # An e-mail subscription is listed as "PendingConfirmation" until its address confirms it (SNS API Reference,
    # ListSubscriptionsByTopic / Subscription.SubscriptionArn).
    pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arns[0])
    subscriptions = [sub for page in pages for sub in page.get("Subscriptions", [])]
    pending = sum(sub["SubscriptionArn"] == "PendingConfirmation" for sub in subscriptions)
    confirmed = len(subscriptions) - pending
    detail = f"{confirmed} confirmed subscription(s)" + (f", {pending} awaiting confirmation" if pending else "")
    return [Check(f"alarm topic {topic}", confirmed > 0, detail if confirmed else detail + ": alarms reach nobody")]


def smoke(
    stage: str,
    *,
    api_url: str | None = None,
    endpoint_url: str | None = None,
    region: str | None = None,
    skip: Iterable[str] = (),
    http_client: Callable[[str], Any] | None = None,
) -> SmokeReport:
    """Check that a deployed stage is wired, creating nothing (in ClickUp or elsewhere): health and configuration,
    every declared route reaching its function, every queue with its DLQ (empty), every schedule targeting its
    queue with a DLQ and a retry policy, the portal-events rule, each function active and polling its queue, and
    the alarm topic having a confirmed subscriber. `skip` leaves out "lambda" and/or "alarms" (a local stack runs
    its functions itself and has no topic). Never raises for a failed check: each is in the report.
    """
    unknown = set(skip) - SKIPPABLE
    if unknown:
        raise OperateError(f"cannot skip {sorted(unknown)}: only {sorted(SKIPPABLE)}")
    url = (api_url or api_url_of(stage, endpoint_url=endpoint_url, region=region)).rstrip("/")
    report = SmokeReport(stage=stage, api_url=url)
    if http_client is None:
        import httpx

        def http_client(base: str) -> Any:
            return httpx.Client(base_url=base, timeout=15, follow_redirects=False)

    http = http_client(url)
    try:
        report.checks.append(_health_check(http))
        report.checks += [_route_check(http, route) for route in d.ROUTES]
    finally:
        http.close()
    sqs = _client("sqs", endpoint_url, region)
    queue_checks, queue_arns = _queue_checks(stage, sqs)
    report.checks += queue_checks
    report.checks += _schedule_checks(stage, _client("scheduler", endpoint_url, region), sqs, queue_arns)
    report.checks += _rule_checks(stage, _client("events", endpoint_url, region), queue_arns)
    if "lambda" in skip:
        report.checks.append(Check("functions and event source mappings", None, "skipped"))
    else:
        report.checks += _lambda_checks(stage, _client("lambda", endpoint_url, region), queue_arns)
    if "alarms" in skip:
        report.checks.append(Check("alarm topic", None, "skipped"))
    else:
        report.checks += _alarm_checks(stage, _client("sns", endpoint_url, region))
    return report
