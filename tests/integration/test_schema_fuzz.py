"""Schema fuzzing of the portal API (issue 16): schemathesis generates requests from the committed OpenAPI
document (docs/openapi.json, drift-tested against the code) and sends them to the local stack over HTTP, as a
member and as an admin of a connected organisation (so the routes reach past 409 `not_connected`).

Each answer must: not be a 5xx; have a status the document lists for the operation, the documented media type and
a body in the documented schema; a 4xx must carry the JSON error shape `{"error": {"code", "message", ...}}`
(API Gateway's own 401 excepted); data the schema forbids must be refused (negative data rejection).

Bounded for `make test`: FUZZ_MAX_EXAMPLES examples per operation and role (default 20: about 50 s on 2
cores), derandomized (the same examples each run). `make fuzz` runs the same test longer for nightly use
(FUZZ_MAX_EXAMPLES=300, FUZZ_RANDOM=1: new examples each night) and writes its figures (operations, requests by
status, failures) to bench/results/fuzz.json.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local import openapi
from local.stack import LocalStack
from tests import flows

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "20"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
FIGURES = Path(__file__).resolve().parents[2] / "bench" / "results" / "fuzz.json"
pytestmark = pytest.mark.fuzz

schema = schemathesis.openapi.from_path(str(openapi.DOCUMENT))
DOCUMENTED = {
    (method.upper(), path)
    for path, operations in json.loads(openapi.DOCUMENT.read_text())["paths"].items()
    for method in operations
}
# The admin's disconnect is fuzzed on an organisation of its own (it would end the connection the other
# operations need); see _org_for.
DISCONNECT = ("DELETE", "/clickup/oauth/disconnect")


@schemathesis.check
def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx carries the JSON error shape with a stable code (API Gateway's own 401, and its 413 for a request over
    its limits, in its `{"message"}` shape, excepted: both documented as GatewayMessage)."""
    if not 400 <= response.status_code < 500 or response.status_code == 401:
        return None
    body = response.json()
    if response.status_code == 413 and isinstance(body, dict) and set(body) == {"message"}:
        return True  # API Gateway's own, before any function ran
    assert isinstance(body, dict) and set(body) == {"error"}, f"not the error shape: {response.text[:200]}"
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], f"no code: {response.text[:200]}"
    assert isinstance(error.get("message"), str), f"no message: {response.text[:200]}"
    assert set(error) <= {"code", "message", "details"}, f"unknown keys: {sorted(error)}"
    return True


@schemathesis.check
def negative_data_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's negative_data_rejection, with API Gateway's own 413 (a request over its limits: refused before
    any function runs, documented on every route) counted as a refusal as well."""
    if response.status_code == 413:
        return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_refused,
    error_shape,
]


_FIGURES: dict[str, Any] = {"requests": 0, "by_status": Counter(), "operations": set(), "failed": []}


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Iterator[None]:
    started = time.monotonic()
    yield
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    figures = {
        "max_examples": MAX_EXAMPLES,
        "random": RANDOM,
        "operations": len(_FIGURES["operations"]),
        "requests": _FIGURES["requests"],
        "by_status": dict(sorted(_FIGURES["by_status"].items())),
        "failed_operations": sorted(set(_FIGURES["failed"])),
        "seconds": round(time.monotonic() - started, 1),
    }
    FIGURES.write_text(json.dumps(figures, indent=2) + "\n")


@pytest.fixture(scope="module")
def fuzz_world(stack: LocalStack, api: httpx.Client) -> Iterator[dict[str, Any]]:
    with httpx.Client(base_url=stack.emulator.url, timeout=30) as clickup:
        world = flows.connected_org(stack, api, clickup)
    world["settings"] = api.get("/api/v1/clickup/settings", headers=world["auth"]()).json()
    yield world


def _restore(api: httpx.Client, world: dict[str, Any], case: Any) -> None:
    """Put back what a fuzzed admin write changed that every other operation depends on (the module's settings:
    `enabled: false` would turn every later request into 409 `module_disabled`)."""
    if (case.method.upper(), case.path) == ("PUT", "/api/v1/clickup/settings"):
        restored = api.put("/api/v1/clickup/settings", headers=world["auth"](), json=world["settings"])
        assert restored.status_code == 200, restored.text


@pytest.mark.parametrize("role", ["member", "admin"])
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_the_api_answers_as_documented(case: Any, role: str, stack: LocalStack, api: httpx.Client, fuzz_world) -> None:
    org = fuzz_world["org"]
    if (case.method.upper(), case.path) == DISCONNECT:
        org = f"org-{uuid.uuid4().hex[:10]}"  # never the connected organisation: see DISCONNECT
    headers = {"Authorization": f"Bearer {stack.token(org, user='fuzz-user', role=role)}"}
    _FIGURES["requests"] += 1
    if (case.method.upper(), case.path) not in DOCUMENTED:
        # a method the document does not list for this path: API Gateway's own 404 (no route), as README says
        answer = case.call(base_url=stack.api_url, headers=headers)
        assert (answer.status_code, answer.json()) == (404, {"message": "Not Found"}), answer.text
        return
    _FIGURES["operations"].add(f"{case.method.upper()} {case.path}")
    try:
        answer = case.call_and_validate(base_url=stack.api_url, headers=headers, checks=CHECKS)
        _FIGURES["by_status"][str(answer.status_code)] += 1
    except BaseException:
        _FIGURES["failed"].append(f"{case.method.upper()} {case.path} ({role})")
        raise
    finally:
        if role == "admin":
            _restore(api, fuzz_world, case)
