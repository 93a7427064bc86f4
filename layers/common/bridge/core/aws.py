"""AWS clients, created once per container and only when first used (boto3 is the heaviest import)."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _session() -> Any:
    import boto3

    return boto3.session.Session()


@cache
def client(service: str) -> Any:
    from botocore.config import Config

    # Short timeouts: a Lambda behind API Gateway has 29 s, and a stuck call must not eat them.
    config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
    return _session().client(service, config=config)


@cache
def table(name: str) -> Any:
    return _session().resource("dynamodb").Table(name)
