"""The control API under `/_emulator/`: reset, seed, users/tokens/apps, act as a ClickUp user, limits, faults,
and the request and delivery logs. Documented in README ("ClickUp emulator")."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from local.emulator import render
from local.emulator.errors import UNKNOWN_ID_ANSWERS, ClickUpError
from local.emulator.routes import ARCHIVED_READINGS
from local.emulator.seed import seed_demo, seed_workspace

if TYPE_CHECKING:
    from local.emulator.server import Emulator


UNIQUENESS_READINGS = ("endpoint_location", "events_location", "endpoint_events_location")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


class ControlApi:
    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator
        r = Rule
        self.url_map = Map(
            [
                r("/_emulator/health", endpoint="health", methods=["GET"]),
                r("/_emulator/reset", endpoint="reset", methods=["POST"]),
                r("/_emulator/seed", endpoint="seed", methods=["POST"]),
                r("/_emulator/seed/demo", endpoint="seed_demo", methods=["POST"]),
                r("/_emulator/users", endpoint="create_user", methods=["POST"]),
                r("/_emulator/users/<int:user_id>/tokens", endpoint="create_token", methods=["POST"]),
                r("/_emulator/login", endpoint="login", methods=["POST"]),
                r("/_emulator/apps", endpoint="create_app", methods=["POST"]),
                r("/_emulator/tokens/<token>/revoke", endpoint="revoke", methods=["POST"]),
                r("/_emulator/teams/<team_id>/members", endpoint="add_member", methods=["POST"]),
                r("/_emulator/act", endpoint="act", methods=["POST"]),
                r("/_emulator/rendering", endpoint="rendering", methods=["GET", "PUT"]),
                r("/_emulator/limits", endpoint="limits", methods=["GET", "PUT"]),
                r("/_emulator/settings", endpoint="settings", methods=["GET", "PUT"]),
                r("/_emulator/faults", endpoint="add_fault", methods=["POST"]),
                r("/_emulator/faults", endpoint="clear_faults", methods=["DELETE"]),
                r("/_emulator/faults", endpoint="list_faults", methods=["GET"]),
                r("/_emulator/webhooks/delivery", endpoint="delivery", methods=["PUT"]),
                r("/_emulator/webhooks/uniqueness", endpoint="uniqueness", methods=["GET", "PUT"]),
                r("/_emulator/webhooks/<webhook_id>/health", endpoint="webhook_health", methods=["PUT"]),
                r("/_emulator/webhooks", endpoint="list_webhooks", methods=["GET"]),
                r("/_emulator/requests", endpoint="requests", methods=["GET"]),
                r("/_emulator/deliveries", endpoint="deliveries", methods=["GET"]),
                r("/_emulator/tasks", endpoint="tasks", methods=["GET"]),
            ]
        )

    def __call__(self, request: Request) -> Response:
        try:
            endpoint, params = self.url_map.bind_to_environ(request.environ).match()
            body = json.loads(request.get_data() or b"{}")
            return getattr(self, f"on_{endpoint}")(request, body, **params)
        except ClickUpError as exc:
            return _json(exc.body(), exc.status)
        except (KeyError, ValueError, TypeError) as exc:
            return _json({"err": f"bad control request: {exc}", "ECODE": "EMU_400"}, 400)
        except Exception as exc:  # noqa: BLE001 - werkzeug's NotFound/MethodNotAllowed and the like
            code = getattr(exc, "code", 500)
            return _json({"err": str(exc), "ECODE": "EMU_ERR"}, code if isinstance(code, int) else 500)

    # -- state ------------------------------------------------------------------------------------------
    def on_health(self, request: Request, body: dict[str, Any]) -> Response:
        return _json({"status": "ok"})

    def on_reset(self, request: Request, body: dict[str, Any]) -> Response:
        self.emu.reset(demo=bool(body.get("demo", False)))
        return _json({"reset": True})

    def on_seed(self, request: Request, body: dict[str, Any]) -> Response:
        b = self.emu.backend
        member_ids = body.get("member_ids") or [int(body.get("user_id") or b.browser_user_id or 0)]
        return _json(seed_workspace(b, body["workspace"], [int(m) for m in member_ids]))

    def on_seed_demo(self, request: Request, body: dict[str, Any]) -> Response:
        return _json(seed_demo(self.emu.backend, body.get("redirect_uri") or self.emu.demo_redirect_uri))

    def on_create_user(self, request: Request, body: dict[str, Any]) -> Response:
        user = self.emu.backend.create_user(body["username"], body["email"])
        return _json(user.brief())

    def on_create_token(self, request: Request, body: dict[str, Any], user_id: int) -> Response:
        token = self.emu.backend.create_personal_token(user_id)
        return _json({"token": token.value, "token_id": token.id, "team_ids": token.team_ids})

    def on_login(self, request: Request, body: dict[str, Any]) -> Response:
        b = self.emu.backend
        b.browser_user_id = b._user(int(body["user_id"])).id
        return _json({"user_id": b.browser_user_id})

    def on_create_app(self, request: Request, body: dict[str, Any]) -> Response:
        app = self.emu.backend.create_app(
            body.get("name", "app"),
            body["redirect_uris"],
            client_id=body.get("client_id"),
            client_secret=body.get("client_secret"),
        )
        return _json(
            {"client_id": app.client_id, "client_secret": app.client_secret, "redirect_uris": app.redirect_uris}
        )

    def on_revoke(self, request: Request, body: dict[str, Any], token: str) -> Response:
        revoked = self.emu.backend.revoke_token(token)
        return _json({"revoked": revoked.id})

    def on_add_member(self, request: Request, body: dict[str, Any], team_id: str) -> Response:
        b = self.emu.backend
        with b.lock:
            team = b.teams[team_id]
            if body.get("remove"):
                team.member_ids.remove(int(body["user_id"]))
            elif int(body["user_id"]) not in team.member_ids:
                team.member_ids.append(int(body["user_id"]))
            return _json({"team_id": team.id, "member_ids": team.member_ids})

    # -- acting as a ClickUp user (webhooks fire) ---------------------------------------------------------
    def on_act(self, request: Request, body: dict[str, Any]) -> Response:
        b = self.emu.backend
        actor = int(body.get("user_id") or b.browser_user_id or 0)
        action = body["action"]
        actions: dict[str, Callable[[], Any]] = {
            "set_status": lambda: b.update_task(actor, body["task_id"], {"status": body["status"]}),
            "set_priority": lambda: b.update_task(actor, body["task_id"], {"priority": body["priority"]}),
            "set_due_date": lambda: b.update_task(actor, body["task_id"], {"due_date": body["due_date"]}),
            "assign": lambda: b.update_task(actor, body["task_id"], {"assignees": {"add": [body["assignee"]]}}),
            "unassign": lambda: b.update_task(actor, body["task_id"], {"assignees": {"rem": [body["assignee"]]}}),
            "update_task": lambda: b.update_task(actor, body["task_id"], body["changes"]),
            "comment": lambda: b.add_comment(actor, body["task_id"], body["text"]),
            "edit_comment": lambda: b.update_comment(actor, str(body["comment_id"]), {"comment_text": body["text"]}),
            "delete_comment": lambda: b.delete_comment(actor, str(body["comment_id"])),
            "move": lambda: b.move_task(actor, body["task_id"], body["list_id"]),
            "delete": lambda: b.delete_task(actor, body["task_id"]),
            "create_task": lambda: b.create_task(actor, body["list_id"], body["task"]),
            "create_list": lambda: b.create_list(
                body["name"],
                folder_id=body.get("folder_id"),
                space_id=body.get("space_id"),
                statuses=body.get("statuses"),
                actor=actor,
            ),
            "create_folder": lambda: b.create_folder(body["space_id"], body["name"], actor=actor),
            "create_space": lambda: b.create_space(body["team_id"], body["name"], actor=actor),
            "rename": lambda: b.rename(body["kind"], body["id"], body["name"], actor=actor),
            "delete_item": lambda: b.delete(body["kind"], body["id"], actor=actor),
            "set_archived": lambda: b.set_archived(body["kind"], body["id"], bool(body["archived"]), actor=actor),
        }
        with b.lock:
            if "task_id" in body and action != "create_task" and body["task_id"] not in b.tasks:
                return _json({"err": "Task not found", "ECODE": "ITEM_013"}, 404)
            result = actions[action]()
            rendered: Any = {"ok": True}
            if result is not None and hasattr(result, "task_id") and hasattr(result, "text"):
                rendered = {"id": result.id, "task_id": result.task_id, "text": result.text, "date": result.date}
            elif result is not None and hasattr(result, "list_id"):
                rendered = render.task(b, result)
            elif result is not None and hasattr(result, "id"):
                rendered = {"id": result.id, "name": getattr(result, "name", None)}
        return _json(rendered)

    def on_rendering(self, request: Request, body: dict[str, Any]) -> Response:
        rendering = self.emu.backend.rendering
        if request.method == "PUT":
            for name in ("comment_id_as_number", "comment_touches_task"):
                if name in body:
                    setattr(rendering, name, bool(body[name]))
        return _json(vars(rendering))

    # -- limits, faults, webhook health --------------------------------------------------------------------
    def on_limits(self, request: Request, body: dict[str, Any]) -> Response:
        limiter = self.emu.limiter
        if request.method == "PUT":
            limiter.configure(
                window_s=body.get("window_s"), reset_unit=body.get("reset_unit"), plan_limits=body.get("plan_limits")
            )
            for team_id, plan in (body.get("team_plans") or {}).items():
                self.emu.api.team_plans[team_id] = plan
            limiter.token_overrides.update({k: int(v) for k, v in (body.get("token_limits") or {}).items()})
        return _json(
            {
                "window_s": limiter.window_s,
                "reset_unit": limiter.reset_unit,
                "plan_limits": limiter.plan_limits,
                "team_plans": self.emu.api.team_plans,
            }
        )

    def on_settings(self, request: Request, body: dict[str, Any]) -> Response:
        """The readings of what ClickUp's documentation leaves open: `{"archived_reading": "archived_only"|"all"}`
        (what `archived=true` selects on the hierarchy reads), `{"unknown_id_answer": "oauth_023"|"not_found"}`
        (what an unknown space, folder, list or task id gets); `POST /_emulator/reset` restores the emulator's
        own defaults."""
        api, backend = self.emu.api, self.emu.backend
        if request.method == "PUT":
            unknown = set(body) - {"archived_reading", "unknown_id_answer"}
            if unknown:
                return _json({"err": f"unknown settings: {sorted(unknown)}", "ECODE": "EMU_400"}, 400)
            reading = body.get("archived_reading", api.archived_reading)
            if reading not in ARCHIVED_READINGS:
                return _json({"err": f"archived_reading must be one of {ARCHIVED_READINGS}", "ECODE": "EMU_400"}, 400)
            answer = body.get("unknown_id_answer", backend.unknown_id_answer)
            if answer not in UNKNOWN_ID_ANSWERS:
                return _json({"err": f"unknown_id_answer must be one of {UNKNOWN_ID_ANSWERS}", "ECODE": "EMU_400"}, 400)
            api.archived_reading, backend.unknown_id_answer = reading, answer
        return _json({"archived_reading": api.archived_reading, "unknown_id_answer": backend.unknown_id_answer})

    def on_add_fault(self, request: Request, body: dict[str, Any]) -> Response:
        rule = self.emu.faults.add(body)
        return _json({"id": rule.id})

    def on_clear_faults(self, request: Request, body: dict[str, Any]) -> Response:
        self.emu.faults.clear()
        return _json({"cleared": True})

    def on_list_faults(self, request: Request, body: dict[str, Any]) -> Response:
        return _json(
            {
                "faults": [
                    {
                        "id": r.id,
                        "action": r.action,
                        "method": r.method,
                        "path": r.path,
                        "status": r.status,
                        "count": r.count,
                        "ratio": r.ratio,
                        "hits": r.hits,
                    }
                    for r in self.emu.faults.rules
                ]
            }
        )

    def on_delivery(self, request: Request, body: dict[str, Any]) -> Response:
        self.emu.dispatcher.configure(**body)
        return _json(vars(self.emu.dispatcher.config))

    def on_uniqueness(self, request: Request, body: dict[str, Any]) -> Response:
        """What makes a second create answer OAUTH_171: one reading of ClickUp's docs each (models.py)."""
        b = self.emu.backend
        if request.method == "PUT":
            reading = body["reading"]
            if reading not in UNIQUENESS_READINGS:
                raise ValueError(f"reading must be one of {', '.join(UNIQUENESS_READINGS)}")
            with b.lock:
                b.webhook_uniqueness = reading
        return _json({"reading": b.webhook_uniqueness})

    def on_webhook_health(self, request: Request, body: dict[str, Any], webhook_id: str) -> Response:
        b = self.emu.backend
        with b.lock:
            hook = b.webhooks[webhook_id]
            hook.status = body.get("status", hook.status)
            hook.fail_count = int(body.get("fail_count", hook.fail_count))
            return _json(hook.render())

    def on_list_webhooks(self, request: Request, body: dict[str, Any]) -> Response:
        with self.emu.backend.lock:
            return _json({"webhooks": [h.render() for h in self.emu.backend.webhooks.values()]})

    # -- logs --------------------------------------------------------------------------------------------
    def on_requests(self, request: Request, body: dict[str, Any]) -> Response:
        since = int(request.args.get("since", "0"))
        log = list(self.emu.api.requests)
        return _json({"requests": [r.render() for r in log[since:]], "next": len(log)})

    def on_deliveries(self, request: Request, body: dict[str, Any]) -> Response:
        wanted = request.args.get("webhook_id")
        with self.emu.dispatcher._lock:
            items = [d.summary() for d in self.emu.dispatcher.log if not wanted or d.webhook_id == wanted]
        return _json({"deliveries": items, "idle": self.emu.dispatcher.idle(wanted)})

    def on_tasks(self, request: Request, body: dict[str, Any]) -> Response:
        b = self.emu.backend
        with b.lock:
            tasks = [
                render.task(b, t, markdown=True)
                for t in b.tasks.values()
                if not request.args.get("list_id") or t.list_id == request.args["list_id"]
            ]
            return _json({"tasks": tasks, "deleted": sorted(b.deleted_tasks)})
