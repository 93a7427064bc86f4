"""Issue 18: the Tracer is Powertools' own, built at the first traced invocation instead of at import."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.core.observability import LazyTracer


class _FakeTracer:
    """Stands in for Powertools' Tracer: records what `capture_lambda_handler` wrapped and each traced call."""

    def __init__(self) -> None:
        self.wrapped: list[Any] = []
        self.calls: list[Any] = []

    def capture_lambda_handler(self, fn: Any) -> Any:
        self.wrapped.append(fn)

        def traced(event: Any, context: Any) -> Any:
            self.calls.append(event)
            return fn(event, context)

        return traced


def test_outside_lambda_the_handler_runs_undecorated_and_no_tracer_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)
    lazy = LazyTracer("svc")
    handler = lazy.capture_lambda_handler(lambda event, context: ("ran", event))
    assert handler({"n": 1}, None) == ("ran", {"n": 1})
    assert lazy._tracer is None


def test_tracing_switched_off_by_configuration_builds_no_tracer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    lazy = LazyTracer("svc")
    assert lazy.capture_lambda_handler(lambda event, context: event)(7, None) == 7
    assert lazy._tracer is None


def test_in_lambda_the_first_invocation_builds_the_tracer_once_and_every_invocation_is_traced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    fake = _FakeTracer()
    built: list[int] = []
    lazy = LazyTracer("svc")

    def real() -> _FakeTracer:
        built.append(1)
        return fake

    monkeypatch.setattr(lazy, "real", real)

    def fn(event: Any, context: Any) -> Any:
        return event * 2

    handler = lazy.capture_lambda_handler(fn)
    assert built == []  # decorating (module load) builds nothing
    assert [handler(n, None) for n in (1, 2, 3)] == [2, 4, 6]
    assert built == [1] and fake.wrapped == [fn] and fake.calls == [1, 2, 3]
    assert handler.__name__ == "fn"  # functools.wraps: Powertools names the subsegment `## fn`
