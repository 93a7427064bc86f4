"""The naive baseline of the cold-start benchmark: everything imported eagerly, as many handlers do."""

import boto3  # noqa: F401
import cryptography.hazmat.primitives.ciphers.aead  # noqa: F401
import httpx  # noqa: F401
import pydantic  # noqa: F401
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

logger, metrics, tracer = Logger(), Metrics(namespace="Naive"), Tracer()
app = APIGatewayHttpResolver(enable_validation=True)


def handler(event, context):
    return app.resolve(event, context)
