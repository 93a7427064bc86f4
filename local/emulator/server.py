"""The ClickUp emulator as one object: state, API, control API, webhook dispatcher, on a loopback port.

`make dev` runs it on 127.0.0.1:8010 seeded with the demo world; tests start it in-process.
"""

from __future__ import annotations

from local.emulator.control import ControlApi
from local.emulator.delivery import WebhookDispatcher
from local.emulator.errors import UNKNOWN_ID_ANSWERS
from local.emulator.limits import Faults, RateLimiter
from local.emulator.models import ClickUpBackend
from local.emulator.routes import ARCHIVED_READINGS, DEFAULT_ARCHIVED_READING, ClickUpApi
from local.emulator.seed import DEMO_REDIRECT_URI, seed_demo
from local.servers import BackgroundServer


class Emulator:
    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8010",
        demo_redirect_uri: str = DEMO_REDIRECT_URI,
        seed: int | None = None,
        archived_reading: str = DEFAULT_ARCHIVED_READING,
        unknown_id_answer: str = "oauth_023",
    ) -> None:
        """`archived_reading`: what `archived=true` selects on the hierarchy reads, one of `ARCHIVED_READINGS`
        ("archived_only", the default, or "all"; see `local.emulator.routes`). `reset()` comes back to it; the
        control API (`PUT /_emulator/settings`) changes it until then. `unknown_id_answer`: what an unknown
        space, folder, list or task id gets, one of `UNKNOWN_ID_ANSWERS` ("oauth_023", the default, or
        "not_found"; see `local.emulator.errors`), kept the same way."""
        if archived_reading not in ARCHIVED_READINGS:
            raise ValueError(f"archived_reading must be one of {ARCHIVED_READINGS}")
        if unknown_id_answer not in UNKNOWN_ID_ANSWERS:
            raise ValueError(f"unknown_id_answer must be one of {UNKNOWN_ID_ANSWERS}")
        self.archived_reading, self.unknown_id_answer = archived_reading, unknown_id_answer
        self.backend = ClickUpBackend(base_url)
        self.backend.unknown_id_answer = unknown_id_answer
        self.limiter = RateLimiter()
        self.faults = Faults(seed)
        self.dispatcher = WebhookDispatcher(self.backend, seed=seed)
        self.control = ControlApi(self)
        self.api = ClickUpApi(self.backend, self.limiter, self.faults, self.control)
        self.api.archived_reading = archived_reading
        self.demo_redirect_uri = demo_redirect_uri
        self.demo: dict[str, object] | None = None

    def reset(self, demo: bool = False) -> None:
        self.backend.reset()
        self.limiter.reset()
        self.faults.clear()
        self.dispatcher.reset()
        self.api.requests.clear()
        self.api.team_plans.clear()
        self.api.archived_reading = self.archived_reading
        self.backend.unknown_id_answer = self.unknown_id_answer
        self.demo = seed_demo(self.backend, self.demo_redirect_uri) if demo else None


class EmulatorServer:
    def __init__(
        self,
        port: int = 8010,
        demo: bool = True,
        demo_redirect_uri: str | None = None,
        archived_reading: str = DEFAULT_ARCHIVED_READING,
    ) -> None:
        self.emulator = Emulator(
            demo_redirect_uri=demo_redirect_uri or DEMO_REDIRECT_URI, archived_reading=archived_reading
        )
        self._server = BackgroundServer(self.emulator.api, port)
        self.emulator.backend.base_url = self._server.url  # task urls point at this emulator
        if demo:
            self.emulator.reset(demo=True)

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> EmulatorServer:
        self.emulator.dispatcher.start()
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        self.emulator.dispatcher.stop()

    def bridge_environment(self) -> dict[str, str]:
        from local.emulator.seed import DEMO_CLIENT_ID

        return {
            "CLICKUP_API_BASE_URL": f"{self.url}/api/v2",
            "CLICKUP_APP_BASE_URL": self.url,
            "CLICKUP_CLIENT_ID": DEMO_CLIENT_ID,
        }
