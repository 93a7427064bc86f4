"""The Logger, Metrics and Tracer singletons. Nobody else instantiates them."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="clickup-bridge")
metrics = Metrics(namespace="ClickUpBridge", service="clickup-bridge")
tracer = Tracer(service="clickup-bridge")
