"""Runs a function's handler the way Lambda does, in execution environments.

Lambda runs each invocation in an execution environment: a runtime process of its own that loads the function's
code once (the init phase, a cold start), then serves one invocation at a time, and is reused warm for the next
one; concurrent invocations get environments of their own, and an environment whose invocation timed out or whose
process exited is thrown away ("Lambda execution environment lifecycle", AWS Lambda developer guide). Locally an
environment is a thread that loads the handler module and its own copy of the `bridge` package (imported under
an alias: `bridge.x` in that environment is `_lambda_<fn>_<serial>_bridge.x`), so no two functions and no two
concurrent invocations share module state (a resolver's current event, per-container caches, clients), while the
third-party libraries, which keep no per-invocation state the bridge relies on, are loaded once per process.

Lambda's limits, applied locally ("Lambda quotas"): a synchronous invocation's request and response are at most
6 MB (6,291,456 bytes in, 6,291,556 bytes out) and must be JSON; an invocation past the function's timeout fails
at its deadline and its environment is stopped.
"""

from __future__ import annotations

import builtins
import ctypes
import importlib.machinery
import importlib.util
import itertools
import json
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
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
    """The invocation ran past the function's timeout (Lambda: "Task timed out after N seconds")."""


class FunctionCrashed(Exception):
    """The invocation ended with the runtime process exiting."""


class CallerTimeout(Exception):
    """The caller stopped waiting before the function answered (API Gateway's integration timeout)."""


class PayloadTooLarge(Exception):
    """A synchronous invocation's request is over 6 MB (Lambda: RequestEntityTooLargeException, nothing runs)."""


class ResponseTooLarge(Exception):
    """The function returned more than 6 MB (Lambda fails the invocation: "Response payload size exceeded")."""


class ResponseNotJson(Exception):
    """The function returned something JSON cannot represent (Lambda: Runtime.MarshalError)."""


# "Lambda quotas": invocation payload (request and response), synchronous: 6 MB each. The limits Lambda reports
# in its errors: requests "must be smaller than 6291456 bytes", responses at most 6291556 bytes.
MAX_SYNC_REQUEST_BYTES = 6 * 1024 * 1024
MAX_SYNC_RESPONSE_BYTES = 6 * 1024 * 1024 + 100


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

    @property
    def deadline(self) -> float:
        return self._deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _EnvironmentLoader(importlib.machinery.SourceFileLoader):
    """Executes a module with its environment's builtins, whose `__import__` maps `bridge` to the alias."""

    def __init__(self, fullname: str, path: str, environment_builtins: dict[str, Any]) -> None:
        super().__init__(fullname, path)
        self._builtins = environment_builtins

    def exec_module(self, module: ModuleType) -> None:
        module.__dict__["__builtins__"] = self._builtins
        super().exec_module(module)


class _AliasFinder:
    """Finds `<alias>` and `<alias>.x.y` as the layer's `bridge` and `bridge.x.y`, for each environment's alias."""

    def __init__(self) -> None:
        self.aliases: dict[str, dict[str, Any]] = {}  # alias -> that environment's builtins

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        alias = fullname.partition(".")[0]
        environment_builtins = self.aliases.get(alias)
        if environment_builtins is None:
            return None
        if fullname == alias:
            found = importlib.machinery.PathFinder.find_spec("bridge", [str(LAYER_PATH)])
        else:  # the file is found by the last part of the name, in the parent package's path (the real one)
            found = importlib.machinery.PathFinder.find_spec(fullname, path)
        if found is None or found.origin is None:
            return None
        return importlib.util.spec_from_file_location(
            fullname,
            found.origin,
            loader=_EnvironmentLoader(fullname, found.origin, environment_builtins),
            submodule_search_locations=found.submodule_search_locations,
        )


_FINDER = _AliasFinder()
_ENVIRONMENT_SERIALS = itertools.count(1)


# Third-party modules the bridge imports on first use (to keep Lambda's cold starts light). On Lambda each execution
# environment is its own interpreter; here the environments are threads of one process sharing third-party modules
# ("loaded once per process"), so the first concurrent uses in several environments would import the same module
# in several threads at once, contending for its import lock (seen in a full suite run: a webhook invocation and
# three concurrent link invocations all past their timeouts at the same moment). They are loaded once, before any
# environment runs, as each environment would find them already loaded after its first use.
SHARED_ON_FIRST_USE = (
    "httpx",
    "boto3.dynamodb.conditions",
    "boto3.dynamodb.types",
    "botocore.config",
    "botocore.exceptions",
    "cryptography.exceptions",
    "cryptography.hazmat.primitives.ciphers.aead",
    "zoneinfo",
    # Powertools' batch utility (bridge.queueing.batch) and pydantic's plugin loader, which the first model or
    # adapter built (`defer_build`) imports with importlib.metadata.
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.data_classes.sqs_event",
    "pydantic.plugin._loader",
)


def _install_finder() -> None:
    if _FINDER not in sys.meta_path:
        for name in SHARED_ON_FIRST_USE:
            importlib.import_module(name)
        sys.meta_path.insert(0, _FINDER)


_INIT_ONLY = object()  # an "invocation" that only runs the init phase (LocalFunction.load)


@dataclass
class _Invocation:
    event: Any
    started: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    context: LocalLambdaContext | None = None
    result: Any = None
    error: BaseException | None = None


class ExecutionEnvironment:
    """One execution environment of a function: its own module state, one invocation at a time, reused warm."""

    def __init__(self, function: LocalFunction, number: int) -> None:
        self.function = function
        self.number = number
        self.serial = next(_ENVIRONMENT_SERIALS)  # unique in the process: no two environments share an alias
        self.alias = f"_lambda_{function.definition.name}_{self.serial}_bridge"
        self.handler_module: ModuleType | None = None
        self.invocations = 0
        self.dead = False
        self._patched: list[tuple[object, str, Any, int]] = []  # (owner, attribute, original, patch id)
        self._jobs: queue.SimpleQueue[_Invocation | None] = queue.SimpleQueue()
        real_import = builtins.__import__

        def environment_import(
            name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0
        ) -> ModuleType:
            if level == 0 and (name == "bridge" or name.startswith("bridge.")):
                name = self.alias + name[len("bridge") :]
            return real_import(name, globals, locals, fromlist, level)

        self.builtins: dict[str, Any] = {**builtins.__dict__, "__import__": environment_import}
        _FINDER.aliases[self.alias] = self.builtins
        self._thread = threading.Thread(
            target=self._serve, name=f"lambda:{function.definition.name}:{number}", daemon=True
        )
        self._thread.start()

    def module(self, name: str) -> ModuleType:
        """This environment's copy of a `bridge` module (`bridge.x.y`), or its handler module (`handler`)."""
        if name == "handler":
            assert self.handler_module is not None
            return self.handler_module
        if not (name == "bridge" or name.startswith("bridge.")):
            raise ValueError(f"{name}: only the bridge package and the handler are per environment")
        aliased = self.alias + name[len("bridge") :]
        return sys.modules.get(aliased) or importlib.import_module(aliased)

    def submit(self, invocation: _Invocation) -> None:
        self._jobs.put(invocation)

    def stop(self) -> None:
        self.dead = True
        self._jobs.put(None)

    def kill(self) -> None:
        """Stop the invocation running here at its next Python instruction (a timeout), and the environment."""
        self.dead = True
        if self._thread.ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self._thread.ident), ctypes.py_object(FunctionTimeout)
            )
        self._jobs.put(None)

    def _init(self) -> ModuleType:
        """The init phase: the handler module (and through it the `bridge` package) loaded in this environment."""
        if self.handler_module is None:
            fn = self.function
            name = f"lambda_fn_{fn.definition.name}_handler_{self.serial}"
            loader = _EnvironmentLoader(name, str(fn.handler_file), self.builtins)
            spec = importlib.util.spec_from_file_location(name, fn.handler_file, loader=loader)
            assert spec is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            loader.exec_module(module)
            self.handler_module = module
        self.function.apply_patches(self)
        return self.handler_module

    def _serve(self) -> None:
        try:
            self._serve_invocations()
        except FunctionTimeout:  # a kill that landed after its invocation ended: the environment is gone anyway
            return

    def _serve_invocations(self) -> None:
        while True:
            invocation = self._jobs.get()
            if invocation is None:
                return
            try:
                handler = self._init().handler
                if invocation.event is _INIT_ONLY:
                    continue
                invocation.context = LocalLambdaContext(
                    self.function.definition, self.function.stage, self.function.region
                )
                invocation.started.set()
                self.invocations += 1
                invocation.result = handler(invocation.event, invocation.context)
            except BaseException as exc:  # noqa: BLE001 - SystemExit and timeouts too: the caller decides
                invocation.error = exc
            finally:
                invocation.started.set()
                invocation.done.set()
            if self.dead:
                return

    def patch(self, patch_id: int, module: str, attribute: str, make: Callable[[Any], Any]) -> None:
        if any(p[3] == patch_id for p in self._patched):
            return
        owner: Any = self.module(module)
        *path, last = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, last)
        setattr(owner, last, make(original))
        self._patched.append((owner, last, original, patch_id))

    def unpatch(self, patch_id: int) -> None:
        for owner, last, original, pid in reversed(self._patched):
            if pid == patch_id:
                setattr(owner, last, original)
        self._patched = [p for p in self._patched if p[3] != patch_id]


class LocalFunction:
    """A function and its execution environments: an idle one is reused (warm), else a new one starts (cold).

    `invoke` is a synchronous invocation (API Gateway, an event source mapping's batch): the event and the
    result cross as JSON within Lambda's 6 MB limits, and the call fails at the function's timeout."""

    def __init__(self, fn: FunctionDef, stage: str, region: str, handler_file: Path | None = None) -> None:
        self.definition = fn
        self.stage = stage
        self.region = region
        self.handler_file = handler_file or ROOT / fn.handler_path
        self._lock = threading.Lock()
        self._idle: list[ExecutionEnvironment] = []
        self.environments: list[ExecutionEnvironment] = []  # every environment started, dead ones included
        self._patches: dict[int, tuple[str, str, Callable[[Any], Any]]] = {}
        self._next_patch = 0
        self.invocations = 0

    # -- execution environments -----------------------------------------------------------------------------
    def _acquire(self, count: bool = True) -> ExecutionEnvironment:
        with self._lock:
            self.invocations += count
            if self._idle:
                return self._idle.pop()  # the most recently used: warm
            isolate_invocation_metrics()
            _install_finder()
            environment = ExecutionEnvironment(self, len(self.environments) + 1)
            self.environments.append(environment)
            return environment

    def _release(self, environment: ExecutionEnvironment) -> None:
        with self._lock:
            if not environment.dead:
                self._idle.append(environment)

    def load(self) -> ModuleType:
        """An environment's handler module, after its init phase (started if no environment is idle): for tools
        that read what a handler declares (the OpenAPI document of its resolver)."""
        environment = self._acquire(count=False)
        job = _Invocation(_INIT_ONLY)
        environment.submit(job)
        job.done.wait()
        self._release(environment)
        if job.error is not None:
            raise job.error
        return environment.module("handler")

    def shutdown(self) -> None:
        with self._lock:
            for environment in self.environments:
                if not environment.dead:
                    environment.stop()
            self._idle.clear()

    @property
    def live_environments(self) -> list[ExecutionEnvironment]:
        return [e for e in self.environments if not e.dead]

    # -- test hooks ---------------------------------------------------------------------------------------------
    def patch(self, module: str, attribute: str, make: Callable[[Any], Any]) -> Callable[[], None]:
        """Replace `module.attribute` (a dotted attribute path) in every environment, running and future, by
        `make(that environment's original)`: tests inject faults into the function's own code this way.
        Returns the undo."""
        with self._lock:
            self._next_patch += 1
            patch_id = self._next_patch
            self._patches[patch_id] = (module, attribute, make)
            environments = [e for e in self.environments if e.handler_module is not None and not e.dead]
        for environment in environments:
            environment.patch(patch_id, module, attribute, make)

        def undo() -> None:
            with self._lock:
                self._patches.pop(patch_id, None)
                touched = list(self.environments)
            for environment in touched:
                environment.unpatch(patch_id)

        return undo

    def apply_patches(self, environment: ExecutionEnvironment) -> None:
        with self._lock:
            patches = list(self._patches.items())
        for patch_id, (module, attribute, make) in patches:
            environment.patch(patch_id, module, attribute, make)

    def _finish(self, environment: ExecutionEnvironment, invocation: _Invocation) -> None:
        """An invocation its caller gave up on: the environment is free again when it ends (or dead at its
        timeout)."""
        context = invocation.context
        deadline = context.deadline if context is not None else time.monotonic()
        if not invocation.done.wait(timeout=max(0.0, deadline - time.monotonic())):
            environment.kill()
        elif isinstance(invocation.error, SystemExit | FunctionTimeout):
            environment.stop()
        else:
            self._release(environment)

    # -- invocation ------------------------------------------------------------------------------------------------
    def invoke(self, event: Any, caller_timeout_s: float | None = None) -> Any:
        """Invoke synchronously; raises `PayloadTooLarge`, `FunctionTimeout`, `FunctionCrashed`,
        `ResponseTooLarge`, `ResponseNotJson`, or what the handler raised (an unhandled function error).
        `caller_timeout_s`: the caller gives up then (`CallerTimeout`) while the invocation runs on to its end."""
        payload = json.dumps(event)
        if len(payload.encode("utf-8")) > MAX_SYNC_REQUEST_BYTES:
            raise PayloadTooLarge(f"{self.definition.name}: request over {MAX_SYNC_REQUEST_BYTES} bytes")
        environment = self._acquire()
        invocation = _Invocation(json.loads(payload))
        environment.submit(invocation)
        invocation.started.wait()
        context = invocation.context
        deadline = context.deadline if context is not None else time.monotonic()
        caller_first = caller_timeout_s is not None and caller_timeout_s < deadline - time.monotonic()
        if caller_first and not invocation.done.wait(timeout=caller_timeout_s):
            threading.Thread(target=self._finish, args=(environment, invocation), daemon=True).start()
            raise CallerTimeout(f"{self.definition.name} did not answer within {caller_timeout_s}s")
        if not invocation.done.wait(timeout=max(0.0, deadline - time.monotonic())):
            environment.kill()  # Lambda stops the runtime of a timed-out invocation and starts a new one
            raise FunctionTimeout(
                f"{self.definition.physical_name(self.stage)} ran past its {self.definition.timeout_s}s timeout"
            )
        error = invocation.error
        if isinstance(error, SystemExit | FunctionTimeout):
            environment.dead = True
            environment.stop()
        else:
            self._release(environment)
        if isinstance(error, SystemExit):
            # The function's process died (sys.exit, a crash): Lambda restarts the runtime and fails the invocation.
            raise FunctionCrashed(f"{self.definition.name} exited mid-invocation: {error}") from error
        if error is not None:
            raise error
        try:
            response = json.dumps(invocation.result)
        except (TypeError, ValueError) as exc:
            raise ResponseNotJson(f"{self.definition.name} returned a value JSON cannot represent: {exc}") from exc
        if len(response.encode("utf-8")) > MAX_SYNC_RESPONSE_BYTES:
            raise ResponseTooLarge(f"{self.definition.name}: response over {MAX_SYNC_RESPONSE_BYTES} bytes")
        return json.loads(response)
