"""Runs a function's handler the way Lambda does: its module loaded once (cold start), a LambdaContext with
a real remaining-time countdown, and the function's timeout enforced on the result."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from infra.definitions import FunctionDef

ROOT = Path(__file__).resolve().parent.parent
LAYER_PATH = ROOT / "layers" / "common"
ACCOUNT_ID = "123456789012"


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
