"""Health of the bridge's dependencies, checked cheaply and in parallel-safe order."""

from __future__ import annotations

import time
from typing import Any

from bridge import __version__
from bridge.core import aws
from bridge.core.config import settings


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


def check_health() -> dict[str, Any]:
    cfg = settings()
    checks = [
        _check("dynamodb", lambda: aws.client("dynamodb").describe_table(TableName=cfg.table_name)),
        _check("kms", lambda: aws.client("kms").describe_key(KeyId=cfg.tokens_key_id)),
        _check(
            "sqs",
            lambda: aws.client("sqs").get_queue_attributes(
                QueueUrl=cfg.sync_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            ),
        ),
    ]
    overall = "ok" if all(c["status"] == "ok" for c in checks) else "degraded"
    return {"status": overall, "version": __version__, "stage": cfg.stage, "dependencies": checks}
