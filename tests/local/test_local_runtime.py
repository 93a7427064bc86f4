"""The local runtime runs concurrent invocations as threads of one process, where Lambda gives each its own
execution environment: Powertools' per-process metric state must not be shared between them."""

from __future__ import annotations

import threading

from aws_lambda_powertools import Metrics

from local.runtime import isolate_invocation_metrics


def test_concurrent_invocations_flush_only_their_own_metrics() -> None:
    isolate_invocation_metrics()
    metrics = Metrics(namespace="RuntimeTest", service="runtime-test")
    errors: list[BaseException] = []
    foreign: list[set[str]] = []
    start = threading.Barrier(8)

    def invocation(n: int) -> None:
        mine = f"Invocation{n}"
        start.wait()
        try:
            for _ in range(300):
                metrics.add_metric(name=mine, unit="Count", value=1)
                flushed = metrics.serialize_metric_set()
                names = {m["Name"] for m in flushed["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
                if names != {mine}:
                    foreign.append(names)
                assert flushed["service"] == "runtime-test"
                metrics.clear_metrics()
        except (RuntimeError, AssertionError, KeyError) as exc:  # the race shows as an exception in the flush
            errors.append(exc)

    threads = [threading.Thread(target=invocation, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert foreign == []
