"""A loopback HTTP endpoint that records what is POSTed to it (raw bytes and headers) and answers a set status."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from local.servers import BackgroundServer


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    status: int = 200
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = BackgroundServer(self._app, 0)

    @property
    def url(self) -> str:
        return f"{self._server.url}/hook"

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            self.received.append(Received(request.get_data(), dict(request.headers)))
        return Response("{}", status=self.status, content_type="application/json")(environ, start_response)

    def events(self, name: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if name is None or r.json.get("event") == name]

    def __enter__(self) -> Receiver:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
