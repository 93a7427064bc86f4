"""The Logger, Metrics and Tracer singletons. Nobody else instantiates them."""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger, Metrics, Tracer

# The SDKs' wire loggers print request and response bodies at DEBUG: a Secrets Manager SecretString, a KMS
# data key's plaintext, a ClickUp token. They stay at WARNING whatever level the bridge itself logs at.
for _wire in ("botocore", "boto3", "urllib3", "httpcore", "httpx", "s3transfer"):
    logging.getLogger(_wire).setLevel(logging.WARNING)

logger = Logger(service="clickup-bridge")
metrics = Metrics(namespace="ClickUpBridge", service="clickup-bridge")
tracer = Tracer(service="clickup-bridge")
