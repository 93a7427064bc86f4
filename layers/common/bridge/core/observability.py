"""The Logger, Metrics and Tracer singletons. Nobody else instantiates them."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

from bridge.core.wire_logs import pin_wire_loggers

pin_wire_loggers()  # request and response bodies (secrets) never reach the log, whatever the level

logger = Logger(service="clickup-bridge")
metrics = Metrics(namespace="ClickUpBridge", service="clickup-bridge")
tracer = Tracer(service="clickup-bridge")
