"""Issue 18: the webhook function's cold start loads only what checking a signature and queueing one message needs.

Importing its module (as Lambda does, in a fresh interpreter with the function's environment) must not import the
X-Ray SDK, botocore's session machinery or httpx: each of them costs a large part of a naive handler's cold start;
nor pydantic's model machinery or Powertools' HTTP resolver. A queue worker's module loads no HTTP resolver (nor its
OpenAPI package), no batch utility (loaded at the first batch) and builds no pydantic validator.
A meta-path finder records, for every module imported, the chain of modules being imported at that moment, so a
failure names the chain that pulled a forbidden module in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra import definitions as d

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("aws_xray_sdk", "botocore.session", "httpx")
# The webhook function validates its environment with pydantic-core alone (bridge.core.config) and answers without
# Powertools' HTTP resolver (bridge.webhooks.edge): no pydantic model class, no resolver, no OpenAPI machinery.
WEBHOOK_ALSO_FORBIDDEN = ("pydantic.main", "aws_lambda_powertools.event_handler")
# The queue workers: no HTTP resolver (its OpenAPI package), Powertools' batch utility loaded at the first batch
# (bridge.queueing.batch), and no pydantic validator built at import (every bridge model and message adapter is
# `defer_build`: pydantic's plugin loader, which imports importlib.metadata, runs when the first one is built).
WORKERS = sorted({q.consumer for q in d.QUEUES})
WORKER_FORBIDDEN = (
    *FORBIDDEN,
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.batch",
    "pydantic.plugin._loader",
)

_PROBE = r"""
import importlib.abc, json, sys

loaded = {}  # module -> the imports in progress when it was first imported ("importer imports name")
stack = []


class Recorder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name not in loaded:
            loaded[name] = list(stack)
        return None  # the real finders find it


_original_import = __import__


def _recording_import(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get("__name__", "?")
    stack.append(f"{importer} imports {'.' * level}{name}")
    try:
        return _original_import(name, globals, locals, fromlist, level)
    finally:
        stack.pop()


import builtins

builtins.__import__ = _recording_import
sys.meta_path.insert(0, Recorder())
sys.path[:0] = {paths!r}
import handler  # noqa: E402,F401
print(json.dumps(loaded))
"""


def _imports_of(function: str, task_root: Path | None = None) -> dict[str, list[str]]:
    """Every module imported by importing `handler` from the function's code (or `task_root`) with the layer's
    package, in a fresh interpreter with the function's environment: module -> the importers' chain."""
    fn = d.function(function)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LAMBDA_TASK_ROOT": "/var/task",  # as in Lambda: Powertools would trace here
        "AWS_LAMBDA_FUNCTION_NAME": fn.physical_name("test"),
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        **d.function_environment(
            "test",
            {q.name: f"https://sqs.eu-west-1.amazonaws.com/123456789012/{q.name}" for q in d.QUEUES},
            {k.name: f"arn:aws:kms:eu-west-1:123456789012:key/{k.name}" for k in d.KEYS},
            {},
        ),
    }
    paths = [str(task_root or ROOT / "functions" / function), str(ROOT / "layers" / "common")]
    code = _PROBE.replace("{paths!r}", repr(paths))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _pulled(loaded: dict[str, list[str]], forbidden: str) -> list[str]:
    return sorted(m for m in loaded if m == forbidden or m.startswith(forbidden + "."))


def _chain(loaded: dict[str, list[str]], module: str) -> str:
    """The imports in progress when `module` was imported, e.g.
    `__main__ imports handler > aws_lambda_powertools.tracing.tracer imports aws_xray_sdk.core: aws_xray_sdk`."""
    return " > ".join(loaded[module]) + f": {module}"


@pytest.fixture(scope="module")
def webhook_imports() -> dict[str, list[str]]:
    return _imports_of("webhook")


@pytest.mark.parametrize("forbidden", FORBIDDEN)
def test_the_webhook_function_does_not_import_it_at_cold_start(
    webhook_imports: dict[str, list[str]], forbidden: str
) -> None:
    pulled = _pulled(webhook_imports, forbidden)
    assert not pulled, f"{forbidden} imported at cold start, by: {_chain(webhook_imports, pulled[0])}"


def test_the_probe_names_the_chain_that_pulls_a_forbidden_module_in(tmp_path: Path) -> None:
    # A handler that builds Powertools' Tracer at import, as the bridge did before issue 18: the X-Ray SDK is
    # found, with the chain of importers from the handler down.
    (tmp_path / "handler.py").write_text(
        "from aws_lambda_powertools import Tracer\n\nfrom bridge.core.config import settings\n\n"
        "settings()\ntracer = Tracer(service='x')\n"
    )
    loaded = _imports_of("webhook", task_root=tmp_path)
    pulled = _pulled(loaded, "aws_xray_sdk")
    assert pulled
    chain = _chain(loaded, "aws_xray_sdk")
    assert chain.startswith("__main__ imports handler > "), chain
    assert "aws_lambda_powertools.tracing.tracer imports aws_xray_sdk" in chain, chain
    # and the webhook's own module is seen with its importers
    assert "bridge.webhooks.ingest" in _imports_of("webhook")


@pytest.mark.parametrize("forbidden", WEBHOOK_ALSO_FORBIDDEN)
def test_the_webhook_function_builds_no_pydantic_model_and_no_resolver_at_cold_start(
    webhook_imports: dict[str, list[str]], forbidden: str
) -> None:
    pulled = _pulled(webhook_imports, forbidden)
    assert not pulled, f"{forbidden} imported at cold start, by: {_chain(webhook_imports, pulled[0])}"


@pytest.mark.parametrize("function", WORKERS)
def test_a_queue_worker_loads_no_resolver_no_batch_utility_and_builds_no_validator_at_cold_start(function: str) -> None:
    loaded = _imports_of(function)
    assert "handler" in loaded and "bridge.queueing.batch" in loaded  # the worker's module was imported
    for forbidden in WORKER_FORBIDDEN:
        pulled = _pulled(loaded, forbidden)
        assert not pulled, f"{function}: {forbidden} imported at cold start, by: {_chain(loaded, pulled[0])}"
