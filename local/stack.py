"""The whole local stack in one object: `make dev` runs it in the foreground, tests start it in-process."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from infra import definitions as d
from local.apigw import HttpApi, JwtAuthorizer
from local.aws import REGION, LocalAws, Provisioned
from local.idp import LocalIdentityProvider, state_dir
from local.pollers import QueuePoller
from local.runtime import LocalFunction
from local.schedules import ScheduleDeliveryFailed, ScheduleRunner
from local.servers import BackgroundServer

log = logging.getLogger("local.stack")


@dataclass
class StackConfig:
    api_port: int = 8000
    emulator_port: int = 8010
    aws_port: int = 8020
    stage: str = d.LOCAL_STAGE
    time_scale: float = 1.0  # < 1 speeds up schedules and visibility timeouts (tests)
    run_pollers: bool = True
    run_schedules: bool = True
    aws_in_process: bool = False  # moto without its HTTP server (single-threaded harnesses only)
    state_dir: Path | None = None
    # Tests may add functions (and the queues they consume) beside the declared ones.
    extra_functions: dict[str, tuple[d.FunctionDef, Path]] = field(default_factory=dict)
    extra_queues: tuple[d.QueueDef, ...] = ()
    # What the emulator's `archived=true` selects on the hierarchy reads: "archived_only" or "all" (README,
    # "Where the emulator differs from ClickUp"); tests flip it with `PUT /_emulator/settings`.
    emulator_archived_reading: str = "archived_only"

    @classmethod
    def from_env(cls) -> StackConfig:
        return cls(
            api_port=int(os.environ.get("BRIDGE_API_PORT", "8000")),
            emulator_port=int(os.environ.get("CLICKUP_EMULATOR_PORT", "8010")),
            aws_port=int(os.environ.get("AWS_EMULATOR_PORT", "8020")),
            emulator_archived_reading=os.environ.get("CLICKUP_EMULATOR_ARCHIVED_READING", "archived_only"),
        )


class LocalStack:
    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.aws = LocalAws(self.config.aws_port, in_process=self.config.aws_in_process)
        self.idp = LocalIdentityProvider(self.config.state_dir or state_dir())
        self.functions: dict[str, LocalFunction] = {}
        self.pollers: dict[str, QueuePoller] = {}
        self.schedules: ScheduleRunner | None = None
        from local.portal import PortalReceiver

        self.portal = PortalReceiver()  # the portal's webhook endpoint, at /_local/portal/events
        self.provisioned: Provisioned | None = None
        self.emulator: Any = None
        self._api: BackgroundServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> LocalStack:
        cfg = self.config
        self.aws.start()
        self.provisioned = self.aws.provision(cfg.stage)
        sqs = self.aws.client("sqs")
        for q in cfg.extra_queues:
            self.provisioned.queue_urls[q.name], self.provisioned.dlq_urls[q.name] = self.aws.create_queue(cfg.stage, q)

        authorizer = JwtAuthorizer(self.idp.jwks(), self.idp.issuer, self.idp.audience)
        self._api = BackgroundServer(HttpApi(d.ROUTES, self.functions, authorizer, self._control), cfg.api_port)
        self.emulator = self._start_emulator(f"{self._api.url}/clickup/oauth/callback")
        self._register_bridge_app()
        os.environ.update(self.environment())

        for fn in d.FUNCTIONS:
            self.functions[fn.name] = LocalFunction(fn, cfg.stage, REGION)
        for name, (fn, path) in cfg.extra_functions.items():
            self.functions[name] = LocalFunction(fn, cfg.stage, REGION, handler_file=path)

        self._api.start()
        if cfg.run_pollers:
            for q in (*d.QUEUES, *cfg.extra_queues):
                self.pollers[q.name] = QueuePoller(
                    sqs, q, self.provisioned.queue_urls[q.name], self.functions[q.consumer], REGION, cfg.time_scale
                ).start()
        self.schedules = ScheduleRunner(self.aws.client("scheduler"), sqs, cfg.time_scale)
        if cfg.run_schedules:
            self.schedules.start()
        return self

    def stop(self) -> None:
        for poller in self.pollers.values():
            poller.stop()
        if self.schedules:
            self.schedules.stop()
        if self._api:
            self._api.stop()
        for function in self.functions.values():
            function.shutdown()
        if self.emulator is not None:
            self.emulator.stop()
        self.aws.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the handlers see ---------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        assert self.provisioned is not None
        deployment = {
            "PUBLIC_BASE_URL": self.api_url,
            "PORTAL_ORIGIN": self.api_url,
            "PORTAL_WEBHOOK_ALLOW_LOOPBACK": "true",  # the stand-in portal (/_local/portal/events) is on loopback
        }
        if self.emulator is not None:
            deployment.update(self.emulator.bridge_environment())
        env = {
            **self.aws.environment(),
            **d.function_environment(
                self.config.stage, self.provisioned.queue_urls, self.provisioned.key_ids, deployment
            ),
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally, as with SAM local
            "POWERTOOLS_SERVICE_NAME": "clickup-bridge",
        }
        if self.config.time_scale != 1.0:  # outage back-offs scale like visibility timeouts and schedules
            env["RETRY_TIME_SCALE"] = str(self.config.time_scale)
        return env

    @property
    def api_url(self) -> str:
        assert self._api is not None
        return self._api.url

    @property
    def urls(self) -> dict[str, str]:
        urls = {"portal API": self.api_url, "console": f"{self.api_url}/console/", "AWS (moto)": self.aws.endpoint}
        if self.emulator is not None:
            urls["ClickUp emulator"] = self.emulator.url
        return urls

    def token(self, org_id: str, user: str = "dev-user", role: str = "admin", **extra: Any) -> str:
        return self.idp.mint(org_id, user=user, role=role, **extra)

    # -- internals -----------------------------------------------------------------------------------
    def _start_emulator(self, redirect_uri: str) -> Any:
        from local.emulator.server import EmulatorServer

        return EmulatorServer(
            port=self.config.emulator_port,
            demo_redirect_uri=redirect_uri,
            archived_reading=self.config.emulator_archived_reading,
        ).start()

    def _register_bridge_app(self) -> None:
        """The demo app's client secret goes where the deployment keeps it: Secrets Manager."""
        from local.emulator.seed import DEMO_CLIENT_SECRET

        assert self.provisioned is not None
        self.aws.client("secretsmanager").put_secret_value(
            SecretId=d.SECRETS[0].physical_name(self.config.stage), SecretString=DEMO_CLIENT_SECRET
        )

    def _control(self, request: Request) -> Response | None:
        """Local-only helpers under /_local/ (never deployed): JWKS, firing schedules, status; and the reference
        console's static files at /console."""
        from local import console

        if console.is_console_path(request.path):
            return console.serve(request)
        if request.path == "/_local/jwks.json" and request.method == "GET":
            return _json(self.idp.jwks())
        answer = self._fire_schedule(request)
        if answer is None:
            answer = self._portal_route(request)
        if answer is not None:
            return answer
        if request.path == "/_local/status" and request.method == "GET":
            return _json({"urls": self.urls, "schedules": sorted(self.schedules.schedules) if self.schedules else []})
        return None

    def _fire_schedule(self, request: Request) -> Response | None:
        """POST /_local/schedules/{name}/fire: the schedule's message now (404 unknown_schedule, 502
        schedule_delivery_failed). None for any other path or method."""
        parts = request.path.strip("/").split("/")
        if not (len(parts) == 4 and parts[1] == "schedules" and parts[3] == "fire" and request.method == "POST"):
            return None
        assert self.schedules is not None
        try:
            return _json({"schedule": parts[2], "message_id": self.schedules.fire(parts[2])})
        except KeyError:
            return _json({"error": {"code": "unknown_schedule", "message": parts[2]}}, 404)
        except ScheduleDeliveryFailed as exc:
            return _json({"error": {"code": "schedule_delivery_failed", "message": str(exc)}}, 502)

    def _portal_route(self, request: Request) -> Response | None:
        """The local portal: its page, the events it receives and lists, and its failure switch. None for any other
        path or method."""
        if request.path == "/_local/portal" and request.method == "GET":
            from local.portal import portal_page

            return portal_page(request, self.api_url, lambda org: self.token(org, user="portal-viewer", role="member"))
        if request.path == "/_local/portal/events":
            if request.method == "POST":
                return self.portal.handle(request)
            if request.method == "GET":
                return self.portal.listing(request)
        if request.path == "/_local/portal/fail" and request.method == "PUT":
            self.portal.fail_next = int(request.args.get("count", "1"))
            return _json({"fail_next": self.portal.fail_next})
        return None


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
