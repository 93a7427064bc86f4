"""The Logger, Metrics and Tracer singletons. Nobody else instantiates them.

The Tracer is built when a traced invocation first needs it, not at import: Powertools' `Tracer()` imports the X-Ray
SDK, which loads botocore's session and client machinery (about half a naive handler's cold start, issue 18).
Lambda's active tracing records each invocation's segment (Initialization, Invocation, Overhead) without the SDK in
the function (X-Ray Developer Guide, "Using AWS Lambda with AWS X-Ray"); the SDK adds the `## handler` subsegment
and the patched AWS and HTTP calls, and those are kept: the first invocation in an environment where tracing is on
loads it. Where tracing is off (outside Lambda, or `POWERTOOLS_TRACE_DISABLED=true`: Powertools' own rule), the SDK
is never loaded and the handler runs undecorated.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics

from bridge.core.wire_logs import pin_wire_loggers

pin_wire_loggers()  # request and response bodies (secrets) never reach the log, whatever the level

SERVICE = "clickup-bridge"


class LazyTracer:
    """Powertools' `Tracer(service=SERVICE)`, created on first use.

    `capture_lambda_handler(fn)` returns a handler that, on each invocation, asks whether tracing is on (Powertools'
    `Tracer._is_tracer_disabled`: off outside Lambda and with `POWERTOOLS_TRACE_DISABLED`); when on, the first
    invocation builds the Tracer (importing the X-Ray SDK, patching botocore and httpx as Powertools does) and every
    invocation runs inside its `## <handler>` subsegment, as `Tracer.capture_lambda_handler` would. Any other
    attribute (`put_annotation`, `capture_method`, `provider`…) builds the Tracer and is Powertools' own.
    """

    def __init__(self, service: str) -> None:
        self._service = service
        self._tracer: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def enabled() -> bool:
        """Whether Powertools would trace here (Lambda, not disabled by configuration)."""
        from aws_lambda_powertools.tracing.tracer import Tracer

        return not Tracer._is_tracer_disabled()

    def real(self) -> Any:
        """The Powertools Tracer (built once per container; imports the X-Ray SDK)."""
        if self._tracer is None:
            with self._lock:
                if self._tracer is None:
                    from aws_lambda_powertools import Tracer

                    self._tracer = Tracer(service=self._service)
        return self._tracer

    def capture_lambda_handler(self, lambda_handler: Callable[..., Any]) -> Callable[..., Any]:
        """Trace `lambda_handler` as Powertools does, with the Tracer built at the first traced invocation."""
        traced: list[Callable[..., Any]] = []

        @functools.wraps(lambda_handler)
        def handler(event: Any, context: Any, **kwargs: Any) -> Any:
            if not traced:
                if not self.enabled():
                    return lambda_handler(event, context, **kwargs)
                traced.append(self.real().capture_lambda_handler(lambda_handler))
            return traced[0](event, context, **kwargs)

        return handler

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


logger = Logger(service=SERVICE)
metrics = Metrics(namespace="ClickUpBridge", service=SERVICE)
tracer = LazyTracer(SERVICE)
