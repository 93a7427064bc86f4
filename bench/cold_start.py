"""Cold start: import time of each function's module vs a naive module (powertools + boto3 + httpx +
pydantic + cryptography + Tracer), each in a fresh interpreter, measured in the same run; reported as a ratio."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.results import record
from infra import definitions as d

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 7
_PROBE = """
import importlib.util, json, sys, time
sys.path.insert(0, {layer!r})
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("fn_under_test", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps({{"import_ms": (time.perf_counter() - t0) * 1000}}))
"""
_ENV = {
    "STAGE": "bench",
    "TABLE_NAME": "bench-table",
    "EVENT_BUS_NAME": "bench-bus",
    "TOKENS_KEY_ID": "alias/b",
    "SYNC_QUEUE_URL": "https://sqs.invalid/q",
    "TASK_QUEUE_URL": "https://sqs.invalid/t",
    "WEBHOOK_QUEUE_URL": "https://sqs.invalid/w",
    "MAINTENANCE_QUEUE_URL": "https://sqs.invalid/m",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
}


def _measure(path: Path) -> float:
    code = _PROBE.format(layer=str(ROOT / "layers" / "common"), path=str(path))
    env = {**os.environ, **_ENV, "PYTHONDONTWRITEBYTECODE": "0"}
    samples = []
    for _ in range(REPEATS):
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        samples.append(json.loads(out.stdout.strip().splitlines()[-1])["import_ms"])
    return statistics.median(samples)


def run() -> dict[str, object]:
    naive = _measure(ROOT / "bench" / "naive_handler.py")
    functions = {}
    for fn in d.FUNCTIONS:
        ms = _measure(ROOT / fn.handler_path)
        functions[fn.name] = {"import_ms": round(ms, 1), "ratio_to_naive": round(ms / naive, 3)}
    figures = {"naive_import_ms": round(naive, 1), "repeats": REPEATS, "statistic": "median", "functions": functions}
    record("cold_start", figures)
    return figures
