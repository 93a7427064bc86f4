"""The SDKs' wire loggers, pinned to WARNING. Light on purpose (stdlib only): the local stack pins them before it
makes its first AWS call, long before a handler imports `bridge.core.observability`."""

from __future__ import annotations

import logging

# At DEBUG these print request and response bodies: a Secrets Manager SecretString, a KMS data key's plaintext,
# a ClickUp token. They stay at WARNING whatever level the bridge (or the local stack) logs at.
WIRE_LOGGERS = ("botocore", "boto3", "urllib3", "httpcore", "httpx", "s3transfer")


def pin_wire_loggers() -> None:
    """Set every wire logger to WARNING (idempotent)."""
    for name in WIRE_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
