"""Health of the bridge: its dependencies (checked cheaply) and its deployment configuration.

A deployment that cannot connect anybody (no ClickUp client id, the OAuth client secret never stored, a
placeholder public URL or portal origin) reports it here by name, never by value: `GET /health` answers 503
`misconfigured` until the operator fixes it (README: Deploying).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from bridge import __version__
from bridge.core import aws
from bridge.core.config import Settings, settings

# Hosts that name no real deployment (RFC 2606/6761 reserved names); the defaults of Settings use `.invalid`.
# The same rule as the deployment inputs' (infra/deployment.py), which refuse them before synthesis.
_PLACEHOLDER_HOST = re.compile(r"(^|\.)(invalid|example|test)$|(^|\.)example\.(com|net|org)$")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_PLACEHOLDER_WORD = re.compile(r"^(changeme|change-me|placeholder|todo|tbd|xxx+|your[-_ ].*|<.*>|none|null)$", re.I)


def _check(name: str, probe: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        probe()
        status = "ok"
        detail = None
    except Exception as exc:  # noqa: BLE001 (a failing dependency is reported, not raised)
        status = "unavailable"
        detail = type(exc).__name__
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    result: dict[str, Any] = {"name": name, "status": status, "latency_ms": latency_ms}
    if detail:
        result["error"] = detail
    return result


def _url_problem(value: str) -> str | None:
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("https", "http") or (parts.scheme == "http" and host not in _LOOPBACK):
        return "not_https"
    if _PLACEHOLDER_HOST.search(host):
        return "placeholder"
    return None


def secret_problem(secret_name: str, describe: Callable[..., dict[str, Any]]) -> str | None:
    """Why the ClickUp client secret is not usable, from Secrets Manager's DescribeSecret (metadata only: the value
    is never read here). None when a version is AWSCURRENT.

    A secret CloudFormation created without a value has no version at all ("If you omit both GenerateSecretString
    and SecretString, you create an empty secret", AWS::SecretsManager::Secret) → "unset"; absent → "missing";
    DescribeSecret refused or failing → "unverifiable".
    """
    if not secret_name:
        return "missing"
    try:
        answer = describe(SecretId=secret_name)
    except Exception as exc:  # noqa: BLE001 (reported by name only)
        code = aws.error_of(exc).get("Code", "")
        return "missing" if code == "ResourceNotFoundException" else "unverifiable"
    if answer.get("DeletedDate"):
        return "missing"
    stages = answer.get("VersionIdsToStages") or {}
    return None if any("AWSCURRENT" in s for s in stages.values()) else "unset"


def configuration_problems(cfg: Settings, describe_secret: Callable[..., dict[str, Any]]) -> list[dict[str, str]]:
    """Each setting that keeps organisations from connecting: `[{"setting": ENV_VAR, "problem": code}]`.

    Codes: `missing`, `placeholder`, `not_https` (http only on loopback), `unset` (the secret has no value),
    `unverifiable`. Values never appear.
    """
    problems: list[dict[str, str]] = []
    client_id = cfg.clickup_client_id.strip()
    if not client_id:
        problems.append({"setting": "CLICKUP_CLIENT_ID", "problem": "missing"})
    elif _PLACEHOLDER_WORD.match(client_id):
        problems.append({"setting": "CLICKUP_CLIENT_ID", "problem": "placeholder"})
    for env, value in (("PUBLIC_BASE_URL", cfg.public_base_url), ("PORTAL_ORIGIN", cfg.portal_origin)):
        if problem := _url_problem(value):
            problems.append({"setting": env, "problem": problem})
    if problem := secret_problem(cfg.clickup_client_secret_name, describe_secret):
        problems.append({"setting": "CLICKUP_CLIENT_SECRET", "problem": problem})
    return problems


HEALTH_DEADLINE_S = 8.0  # every probe runs at once; one that has not answered by then is reported unavailable


def check_health() -> dict[str, Any]:
    """`{"status": "ok" | "degraded" | "misconfigured", "version", "stage", "dependencies", "configuration"}`:
    `degraded` when a dependency is unavailable, else `misconfigured` when a setting is (both answer 503).
    The probes (DynamoDB, KMS, SQS, Secrets Manager) run concurrently under one deadline (`HEALTH_DEADLINE_S`), so
    a stalled AWS answers `degraded` in seconds, not after each probe's SDK retries in turn (the function's timeout:
    a 500 from API Gateway)."""
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import TimeoutError as ProbeTimeout

    cfg = settings()
    probes: dict[str, Callable[[], Any]] = {
        "dynamodb": lambda: aws.client("dynamodb").describe_table(TableName=cfg.table_name),
        "kms": lambda: aws.client("kms").describe_key(KeyId=cfg.tokens_key_id),
        "sqs": lambda: aws.client("sqs").get_queue_attributes(
            QueueUrl=cfg.sync_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        ),
    }
    deadline = time.monotonic() + HEALTH_DEADLINE_S
    pool = ThreadPoolExecutor(max_workers=len(probes) + 1, thread_name_prefix="health")
    try:
        running = {name: pool.submit(_check, name, probe) for name, probe in probes.items()}
        secret = pool.submit(
            lambda: aws.client("secretsmanager").describe_secret(SecretId=cfg.clickup_client_secret_name)
        )

        def describe_secret(**_: Any) -> dict[str, Any]:
            return dict(secret.result(timeout=max(0.0, deadline - time.monotonic())))

        checks = []
        for name, future in running.items():
            try:
                checks.append(future.result(timeout=max(0.0, deadline - time.monotonic())))
            except ProbeTimeout:
                checks.append(
                    {"name": name, "status": "unavailable", "latency_ms": HEALTH_DEADLINE_S * 1000, "error": "Timeout"}
                )
        configuration = configuration_problems(cfg, describe_secret)
    finally:
        pool.shutdown(wait=False)  # a stalled probe is left behind: the answer does not wait for it
    if not all(c["status"] == "ok" for c in checks):
        overall = "degraded"
    elif configuration:
        overall = "misconfigured"
    else:
        overall = "ok"
    return {
        "status": overall,
        "version": __version__,
        "stage": cfg.stage,
        "dependencies": checks,
        "configuration": configuration,
    }
