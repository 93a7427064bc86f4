"""Runs a function's handler the way Lambda does: its module loaded once (cold start), a LambdaContext with
a real remaining-time countdown, and the function's timeout enforced on the result."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from infra.definitions import FunctionDef

ROOT = Path(__file__).resolve().parent.parent
LAYER_PATH = ROOT / "layers" / "common"
ACCOUNT_ID = "123456789012"


class _PerInvocation:
    """A Powertools metrics provider attribute that each thread sees its own value of.

    Lambda runs one invocation per execution environment at a time, so Powertools keeps the metrics of "the"
    invocation in per-process state. The local runtime runs concurrent invocations (a poller's batches, the API's
    requests) as threads of one process: they shared that state, so one invocation's flush carried another's
    metrics, and a flush racing an `add_metric` failed with "dictionary changed size during iteration" (seen at a
    webhook processor concurrency of 10). Per-thread state gives each invocation its own, as in Lambda."""

    def __init__(self, name: str, make: Callable[[Any], Any]) -> None:
        self._name, self._make = name, make

    def _state(self, provider: Any) -> threading.local:
        state: threading.local = provider.__dict__.setdefault("_per_invocation", threading.local())
        return state

    def __get__(self, provider: Any, owner: type | None = None) -> Any:
        if provider is None:
            return self
        state = self._state(provider)
        if not hasattr(state, self._name):
            setattr(state, self._name, self._make(provider))
        return getattr(state, self._name)

    def __set__(self, provider: Any, value: Any) -> None:
        setattr(self._state(provider), self._name, value)


def isolate_invocation_metrics() -> None:
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider as P

    if isinstance(P.__dict__.get("metric_set"), _PerInvocation):
        return

    def defaults(p: Any) -> dict[str, str]:
        return {k: v if isinstance(v, str) else str(v) for k, v in p.default_dimensions.items()}

    attributes: dict[str, Callable[[Any], Any]] = {
        "metric_set": lambda p: {},
        "metadata_set": lambda p: {},
        "dimension_sets": lambda p: [],
        "dimension_set": defaults,
    }
    for name, make in attributes.items():
        setattr(P, name, _PerInvocation(name, make))


class FunctionTimeout(Exception):
    pass


class FunctionCrashed(Exception):
    """The invocation ended with the runtime process exiting."""


class LocalLambdaContext:
    """The attributes Lambda's Python runtime gives a context object."""

    def __init__(self, fn: FunctionDef, stage: str, region: str) -> None:
        self.function_name = fn.physical_name(stage)
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{self.function_name}"
        self.memory_limit_in_mb = fn.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + fn.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalFunction:
    def __init__(self, fn: FunctionDef, stage: str, region: str, handler_file: Path | None = None) -> None:
        self.definition = fn
        self.stage = stage
        self.region = region
        self._file = handler_file or ROOT / fn.handler_path
        self._module: ModuleType | None = None
        self._lock = threading.Lock()
        self.invocations = 0

    def _load(self) -> ModuleType:
        with self._lock:
            if self._module is None:
                isolate_invocation_metrics()
                if str(LAYER_PATH) not in sys.path:
                    sys.path.insert(0, str(LAYER_PATH))
                name = f"lambda_fn_{self.definition.name}_handler"
                spec = importlib.util.spec_from_file_location(name, self._file)
                assert spec and spec.loader
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                spec.loader.exec_module(module)
                self._module = module
            return self._module

    def invoke(self, event: dict[str, Any]) -> Any:
        handler = self._load().handler
        context = LocalLambdaContext(self.definition, self.stage, self.region)
        self.invocations += 1
        try:
            result = handler(event, context)
        except SystemExit as exc:
            # The function's process died (sys.exit, a crash): Lambda restarts the runtime and fails the invocation.
            raise FunctionCrashed(f"{context.function_name} exited mid-invocation: {exc}") from exc
        if context.get_remaining_time_in_millis() <= 0:
            raise FunctionTimeout(f"{context.function_name} ran past its {self.definition.timeout_s}s timeout")
        return result
