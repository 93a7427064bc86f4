"""moto's server in its own process: `python -m local.aws_server --port N` prints `{"port": P}` once it listens,
and exits when its parent closes stdin (the parent died or stopped it).

AWS is another machine in production. In the stack's process moto's request handling competed for the GIL with
every handler, poller and the ClickUp emulator; in its own process it runs on another core. It is served by
waitress, which keeps connections alive as AWS endpoints do (werkzeug's server closes every connection, so each
boto3 call paid a new connection and a new server thread). Measured on the webhook ack benchmark (500 deliveries,
2 cores): p50/p99 52/82 ms before, 26/47 ms after, together with `_route_once` and `moto_sqs`."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import waitress
from moto.server import DomainDispatcherApplication, create_backend_app

from local import moto_dynamodb, moto_sqs


class AtomicDynamoDB:
    """DynamoDB applies each request atomically: a conditional write checks and writes as one step. moto's backend
    takes no lock, so two concurrent requests through its threaded server can both pass one condition (measured:
    two winners of an `attribute_not_exists` claim, two rate-limit windows opened at once). Serialising DynamoDB
    requests restores the guarantee that claims, counters and exactly-once records rely on; other services stay
    concurrent."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self._app(environ, start_response)
        with self._lock:
            environ["local.locked_at"] = time.monotonic()
            return list(self._app(environ, start_response))  # the whole answer is produced inside the lock


class SlowRequestLog:
    """With `LOCAL_AWS_SLOW_LOG=PATH`, appends a line for each request that took over a second (long-polling
    ReceiveMessage excepted): `epoch-seconds target total=S wait=S`, `wait` the time a DynamoDB request queued for
    `AtomicDynamoDB`'s lock. What showed that one Scan page of moto held every DynamoDB request for 4-5 s
    (local/moto_dynamodb.py)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], path: str) -> None:
        self._app, self._path = app, path

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.monotonic()
        answer = list(self._app(environ, start_response))
        took = time.monotonic() - started
        target = environ.get("HTTP_X_AMZ_TARGET", "") or environ.get("PATH_INFO", "")
        if took > 1.0 and not target.endswith("ReceiveMessage"):
            wait = environ.get("local.locked_at", started) - started
            with open(self._path, "a") as out:
                out.write(f"{time.time():.1f} {target} total={took:.2f} wait={wait:.2f}\n")
        return answer


def _route_once() -> None:
    """Work moto's server repeats on every request although its answer cannot change while the server runs
    (measured together: about a quarter of a SendMessage's CPU):

    - deciding the service from the Host header lists and stat-s moto's package directory (181 `stat` calls per
      request), then tries every service's URL pattern against a loopback host that matches none;
    - finding a request's action lists the handler class's members with `inspect.getmembers`."""
    from moto import backends
    from moto.core import responses
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules

    backend_for_host = DomainDispatcherApplication.get_backend_for_host
    hosts: dict[str | None, Any] = {}

    def remembered_backend_for_host(self: Any, host: str | None) -> Any:
        if host not in hosts:
            hosts[host] = backend_for_host(self, host)
        return hosts[host]

    DomainDispatcherApplication.get_backend_for_host = remembered_backend_for_host  # type: ignore[method-assign]
    method_names = functools.lru_cache(maxsize=None)(responses.method_names_from_class)
    responses.method_names_from_class = lambda clazz: list(method_names(clazz))


def _exit_with_parent() -> None:
    sys.stdin.read()  # returns at EOF: the parent closed the pipe or died
    os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops this server
    moto_dynamodb.install()
    moto_sqs.install()
    _route_once()
    app: Callable[..., Iterable[bytes]] = AtomicDynamoDB(DomainDispatcherApplication(create_backend_app))
    if slow_log := os.environ.get("LOCAL_AWS_SLOW_LOG"):
        app = SlowRequestLog(app, slow_log)
    logging.getLogger("waitress").setLevel(logging.ERROR)
    # Threads: every poller holds one for up to its long-poll wait, and handlers call meanwhile.
    server = waitress.create_server(app, host=args.host, port=args.port, threads=48, ident="local-aws")
    threading.Thread(target=_exit_with_parent, name="parent-watch", daemon=True).start()
    print(json.dumps({"port": server.effective_port}), flush=True)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the parent reads one line only; anything else is a log
    server.run()


if __name__ == "__main__":
    main()
