"""The ClickUp emulator's process wrapper: a loopback server the bridge is pointed at."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request, Response

from local.servers import BackgroundServer


class _Placeholder:
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/_emulator/health":
            response = Response(json.dumps({"status": "ok"}), content_type="application/json")
        else:
            response = Response(
                json.dumps({"err": "Not emulated yet", "ECODE": "EMU_000"}), status=501, content_type="application/json"
            )
        return response(environ, start_response)


class EmulatorServer:
    def __init__(self, port: int = 8010) -> None:
        self._server = BackgroundServer(_Placeholder(), port)

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> EmulatorServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def bridge_environment(self) -> dict[str, str]:
        return {"CLICKUP_API_BASE_URL": f"{self.url}/api/v2", "CLICKUP_APP_BASE_URL": self.url}
