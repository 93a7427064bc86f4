"""Lambda's execution environments, locally: each function and each concurrent invocation has its own module
state (an environment each, reused warm one invocation at a time), an invocation past its timeout is stopped at
its deadline, and the invocation payload limits and API Gateway's limits apply."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from infra import definitions as d
from local.apigw import HttpApi, JwtAuthorizer
from local.aws import REGION
from local.runtime import FunctionTimeout, LocalFunction
from local.stack import LocalStack
from tests.conftest import ROOT
from tests.fixtures.env_probe import meeting

PROBE = ROOT / "tests/fixtures/env_probe/handler.py"
ROUTES = [d.RouteDef("GET", path, "probe", authorized=False) for path in ("/probe", "/spin", "/big")]
ROUTES.append(d.RouteDef("POST", "/probe", "probe", authorized=False))


def _function(name: str = "probe", timeout_s: int = 5) -> LocalFunction:
    return LocalFunction(d.FunctionDef(name, "test-only probe", timeout_s=timeout_s), d.LOCAL_STAGE, REGION, PROBE)


@pytest.fixture
def probe(stack: LocalStack) -> Iterator[tuple[LocalFunction, Client]]:
    """The probe behind the local HTTP API adapter (the stack's environment: the bridge validates it)."""
    function = _function()
    api = HttpApi(ROUTES, {"probe": function}, JwtAuthorizer({"keys": []}, "issuer", "audience"))
    yield function, Client(api)
    function.shutdown()


def _concurrently(calls: int, call: Any) -> list[Any]:
    results: list[Any] = [None] * calls

    def run(i: int) -> None:
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_concurrent_invocations_do_not_share_the_resolver(probe: tuple[LocalFunction, Client]) -> None:
    function, client = probe
    meeting.barrier = threading.Barrier(4)
    try:
        answers = _concurrently(4, lambda: client.get("/probe?wait=true"))
    finally:
        meeting.barrier = None
    assert [a.status_code for a in answers] == [200] * 4
    bodies = [a.json for a in answers]
    # four invocations running at once: four environments, each with its own resolver and bridge package
    assert len({b["resolver"] for b in bodies}) == 4
    assert len({b["config_module"] for b in bodies}) == 4
    assert len(function.environments) == 4
    # then one at a time: a warm environment is reused, no new one starts
    again = [client.get("/probe").json for _ in range(3)]
    assert {b["resolver"] for b in again} <= {b["resolver"] for b in bodies}
    assert len(function.environments) == 4 and max(b["invocations_here"] for b in again) >= 2


def test_functions_do_not_share_module_state(stack: LocalStack) -> None:
    import bridge.core.config as tests_own

    for name in ("api", "oauth"):
        stack.functions[name].load()  # an environment of each (an idle one, else a new one)
    configs = {
        name: stack.functions[name].live_environments[0].module("bridge.core.config") for name in ("api", "oauth")
    }
    assert configs["api"] is not configs["oauth"]
    assert tests_own not in configs.values()
    assert configs["api"].__name__ != "bridge.core.config" and configs["api"].__file__ == tests_own.__file__
    # module state set in one function's environment is not seen by another's
    undo = stack.functions["api"].patch("bridge.core.config", "__doc__", lambda original: "api only")
    try:
        assert configs["api"].__doc__ == "api only"
        assert configs["oauth"].__doc__ == tests_own.__doc__ != "api only"
    finally:
        undo()
    assert configs["api"].__doc__ == tests_own.__doc__


def test_an_invocation_past_its_timeout_fails_at_its_deadline_and_is_stopped(stack: LocalStack) -> None:
    function = _function(timeout_s=1)
    api = Client(HttpApi(ROUTES, {"probe": function}, JwtAuthorizer({"keys": []}, "issuer", "audience")))
    try:
        started = time.monotonic()
        answer = api.get("/spin")
        elapsed = time.monotonic() - started
        # Lambda fails the invocation at 1 s (API Gateway: 500), it does not wait for the 10 s of work
        assert answer.status_code == 500 and answer.json == {"message": "Internal Server Error"}
        assert elapsed < 3, elapsed
        spins = meeting.spins
        time.sleep(0.3)
        assert meeting.spins == spins, "the timed-out invocation kept running"
        # its environment is gone: the next invocation starts a new one (a cold start)
        assert function.environments[0].dead
        assert api.get("/probe").status_code == 200 and len(function.environments) == 2
        with pytest.raises(FunctionTimeout):
            function.invoke({"version": "2.0"} | _event("/spin"))
    finally:
        function.shutdown()


def test_the_integration_timeout_answers_503(stack: LocalStack) -> None:
    function = _function(timeout_s=5)
    api = HttpApi(ROUTES, {"probe": function}, JwtAuthorizer({"keys": []}, "i", "a"), integration_timeout_s=0.5)
    try:
        answer = Client(api).get("/spin")
        assert answer.status_code == 503 and answer.json == {"message": "Service Unavailable"}
    finally:
        function.shutdown()


def test_lambda_and_api_gateway_payload_limits(probe: tuple[LocalFunction, Client]) -> None:
    function, client = probe
    before = function.invocations
    # a response over Lambda's 6 MB fails the invocation: API Gateway answers 500
    assert client.get("/big?mb=5.5").status_code == 200
    assert client.get("/big?mb=6.1").status_code == 500
    # a request over 6 MB as an event: Lambda refuses it, nothing runs; over 10 MB: API Gateway refuses it
    assert client.post("/probe", data=b"x" * (6 * 1024 * 1024 + 1), content_type="text/plain").status_code == 413
    assert client.post("/probe", data=b"x" * (10 * 1024 * 1024 + 1), content_type="text/plain").status_code == 413
    # the request line and header values together over 10,240 bytes: API Gateway refuses it, nothing runs
    assert client.get("/probe", headers={"x-big": "y" * 9_000}).status_code == 200
    assert client.get("/probe", headers={"x-big": "y" * 10_300}).status_code == 413
    assert client.get("/probe?q=" + "z" * 10_300).status_code == 413
    assert function.invocations == before + 3


def _event(path: str) -> dict[str, Any]:
    return {
        "routeKey": f"GET {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {},
        "requestContext": {
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": ""},
            "requestId": "r",
            "routeKey": f"GET {path}",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }


def test_two_instances_of_one_function_do_not_share_module_state(stack: LocalStack) -> None:
    """Environments are named uniquely in the process: a second local function of the same name (another stack,
    the OpenAPI generator) never picks up the first one's modules."""
    first, second = _function(), _function()
    try:
        first.load(), second.load()
        one, other = first.environments[0], second.environments[0]
        assert one.alias != other.alias
        assert one.module("handler") is not other.module("handler")
        assert one.module("bridge.core.config") is not other.module("bridge.core.config")
    finally:
        first.shutdown(), second.shutdown()
