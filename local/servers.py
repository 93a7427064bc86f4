"""A threaded WSGI server on a background thread, bound to loopback only."""

from __future__ import annotations

import logging
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        if logging.getLogger("local.access").isEnabledFor(logging.DEBUG):
            super().log_request(*args, **kwargs)


logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request otherwise


class BackgroundServer:
    def __init__(
        self, app: Any, port: int, host: str = "127.0.0.1", request_handler: type[WSGIRequestHandler] = _QuietHandler
    ) -> None:
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=request_handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"wsgi:{port}", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
