"""HTTP face of the emulator: parses requests, applies auth, rate limits and faults, renders answers.

ClickUp's API lives under `/api/v2`, the OAuth consent page at `/api`; the control API is in `control.py`.
"""

from __future__ import annotations

import html
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlencode

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from local.emulator import errors, render
from local.emulator.errors import ClickUpError
from local.emulator.limits import Faults, RateLimiter
from local.emulator.models import ClickUpBackend, Token

PAGE_SIZE = 100


@dataclass
class LoggedRequest:
    seq: int
    method: str
    path: str
    token_id: str | None
    status: int
    at: float
    duration_ms: float

    def render(self) -> dict[str, Any]:
        return vars(self)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json", headers=headers or {})


def _body(request: Request) -> dict[str, Any]:
    if not request.get_data():
        return {}
    if request.mimetype == "application/x-www-form-urlencoded":
        return request.form.to_dict()
    try:
        data = json.loads(request.get_data())
    except ValueError:
        raise errors.bad_request("Request body is not valid JSON", "INPUT_001") from None
    if not isinstance(data, dict):
        raise errors.bad_request("Request body must be an object", "INPUT_001")
    return data


def _flag(request: Request, name: str) -> bool:
    return request.args.get(name, "false").lower() == "true"


# What `archived=true` selects on Get Spaces / Get Folders / Get Folderless Lists / Get Lists. ClickUp's reference
# (developer.clickup.com/reference/getspaces, getfolders, getfolderlesslists, getlists) gives the boolean query
# parameter with an empty description and the example `false`; it does not say whether `true` means "archived items
# only" or "archived items too". Both readings are emulated, chosen per emulator (README, "Where the emulator
# differs from ClickUp"):
#   "archived_only"  archived=true -> only archived items; archived=false or absent -> only active ones (the
#                    reading of public connectors, e.g. steampipe's clickup_list: "to return archived items only
#                    set archived = true"; the default);
#   "all"            archived=true -> active and archived items; archived=false or absent -> only active ones.
# The lists embedded in each folder of Get Folders are selected the same way as the folders themselves (the
# document's `lists` is an array of strings there, so it says nothing either; this is the emulator's guess).
ARCHIVED_READINGS = ("archived_only", "all")
DEFAULT_ARCHIVED_READING = "archived_only"


def archived_filter(reading: str, wanted: bool) -> Callable[[bool], bool]:
    """The items (by their own `archived`) an answer holds for `archived=<wanted>` under `reading`."""
    if not wanted:
        return lambda archived: not archived
    if reading == "all":
        return lambda archived: True
    return lambda archived: archived


def _many(request: Request, name: str) -> list[str]:
    return request.args.getlist(f"{name}[]") + request.args.getlist(name)


def _int_arg(request: Request, name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f"{name} must be an integer", "INPUT_002") from None


class ClickUpApi:
    """The WSGI app of the emulated ClickUp (API + OAuth) — control routes are mounted beside it."""

    def __init__(
        self,
        backend: ClickUpBackend,
        limiter: RateLimiter,
        faults: Faults,
        control: Callable[[Request], Response] | None = None,
    ) -> None:
        self.backend, self.limiter, self.faults, self.control = backend, limiter, faults, control
        self.requests: list[LoggedRequest] = []
        # Tests observe every exchange (request, response) to validate both against ClickUp's OpenAPI document.
        self.observers: list[Callable[[Request, Response], None]] = []
        self._log_lock = threading.Lock()
        self.team_plans: dict[str, str] = {}
        self.archived_reading = DEFAULT_ARCHIVED_READING
        r = Rule
        self.url_map = Map(
            [
                r("/api", endpoint="consent", methods=["GET"]),
                r("/api/authorize", endpoint="authorize", methods=["POST"]),
                r("/api/v2/oauth/token", endpoint="token", methods=["POST"]),
                r("/api/v2/user", endpoint="user", methods=["GET"]),
                r("/api/v2/team", endpoint="teams", methods=["GET"]),
                r("/api/v2/team/<team_id>/space", endpoint="spaces", methods=["GET"]),
                r("/api/v2/space/<space_id>", endpoint="space", methods=["GET"]),
                r("/api/v2/space/<space_id>/folder", endpoint="folders", methods=["GET"]),
                r("/api/v2/space/<space_id>/list", endpoint="folderless_lists", methods=["GET"]),
                r("/api/v2/folder/<folder_id>", endpoint="folder", methods=["GET"]),
                r("/api/v2/folder/<folder_id>/list", endpoint="folder_lists", methods=["GET"]),
                r("/api/v2/list/<list_id>", endpoint="list", methods=["GET"]),
                r("/api/v2/list/<list_id>/task", endpoint="list_tasks", methods=["GET"]),
                r("/api/v2/list/<list_id>/task", endpoint="create_task", methods=["POST"]),
                r("/api/v2/list/<list_id>/field", endpoint="list_fields", methods=["GET"]),
                r("/api/v2/task/<task_id>", endpoint="task", methods=["GET"]),
                r("/api/v2/task/<task_id>", endpoint="update_task", methods=["PUT"]),
                r("/api/v2/task/<task_id>", endpoint="delete_task", methods=["DELETE"]),
                r("/api/v2/task/<task_id>/field/<field_id>", endpoint="set_field", methods=["POST"]),
                r("/api/v2/task/<task_id>/comment", endpoint="comments", methods=["GET"]),
                r("/api/v2/task/<task_id>/comment", endpoint="add_comment", methods=["POST"]),
                r("/api/v2/comment/<comment_id>", endpoint="update_comment", methods=["PUT"]),
                r("/api/v2/comment/<comment_id>", endpoint="delete_comment", methods=["DELETE"]),
                r("/api/v2/team/<team_id>/task", endpoint="team_tasks", methods=["GET"]),
                r("/api/v2/team/<team_id>/webhook", endpoint="webhooks", methods=["GET"]),
                r("/api/v2/team/<team_id>/webhook", endpoint="create_webhook", methods=["POST"]),
                r("/api/v2/webhook/<webhook_id>", endpoint="update_webhook", methods=["PUT"]),
                r("/api/v2/webhook/<webhook_id>", endpoint="delete_webhook", methods=["DELETE"]),
            ]
        )

    # -- WSGI -------------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path.startswith("/_emulator") and self.control is not None:
            return self.control(request)(environ, start_response)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        started = time.perf_counter()
        call = _Call()
        try:
            response = self._route(request, call)
        except ClickUpError as exc:
            response = _json(exc.body(), exc.status)
        except NotFound:
            response = _json({"err": "Route not found", "ECODE": "APP_001"}, 404)
        except MethodNotAllowed:
            response = _json({"err": "Method not allowed", "ECODE": "APP_001"}, 405)
        except HTTPException as exc:
            response = _json({"err": exc.description or "Bad request", "ECODE": "APP_001"}, exc.code or 400)
        for name, value in call.headers.items():
            response.headers[name] = value
        self._log(request, call.token, response.status_code, started)
        for observe in self.observers:
            try:
                observe(request, response)
            except Exception:  # an observer (a test's recorder) must never change what ClickUp answers
                logging.getLogger("local.emulator").exception("observer failed")
        return response

    def _route(self, request: Request, call: _Call) -> Response:
        """The answer of the route the request matches; raises what ClickUp answers as an error."""
        endpoint, params = self.url_map.bind_to_environ(request.environ).match()
        # Fault injection reaches the token exchange too (no token: only rules without a `token` match), so
        # tests can make ClickUp answer it 429 / 5xx / 401 as any API call.
        fault = self.faults.pick(request.method, request.path, None) if endpoint == "token" else None
        if fault and fault.action == "status":
            return _json(fault.body or {"err": "Internal error", "ECODE": "EMU_500"}, fault.status)
        if endpoint in ("consent", "authorize", "token"):
            return cast(Response, getattr(self, f"on_{endpoint}")(request, **params))
        return self._api_call(request, endpoint, params, call)

    def _api_call(self, request: Request, endpoint: str, params: Mapping[str, Any], call: _Call) -> Response:
        """An API call with a token: authenticated, rate limited (its headers into `call` even on a 429), then any
        injected fault, else the endpoint."""
        with self.backend.lock:
            call.token = token = self.backend.authenticate(request.headers.get("Authorization"))
        allowed, call.headers = self.limiter.hit(token.value, self._plan_of(token))
        if not allowed:
            raise errors.rate_limited()
        fault = self.faults.pick(request.method, request.path, token.value)
        if fault and fault.action == "status":
            return _json(fault.body or {"err": "Internal error", "ECODE": "EMU_500"}, fault.status)
        if fault and fault.action == "timeout":
            time.sleep(fault.delay_s)
            return _json({"err": "Gateway timeout", "ECODE": "EMU_504"}, 504)
        with self.backend.lock:
            response = cast(Response, getattr(self, f"on_{endpoint}")(request, token, **params))
        if fault and fault.action == "lose_response":
            time.sleep(fault.delay_s)  # done at ClickUp; the client gives up before the answer
        return response

    def _plan_of(self, token: Token) -> str:
        for team_id in token.team_ids:
            team = self.backend.teams.get(team_id)
            if team is not None:
                return self.team_plans.get(team_id, team.plan)
        return "free"

    def _log(self, request: Request, token: Token | None, status: int, started: float) -> None:
        with self._log_lock:
            self.requests.append(
                LoggedRequest(
                    seq=len(self.requests) + 1,
                    method=request.method,
                    path=request.path,
                    token_id=token.id if token else None,
                    status=status,
                    at=time.time(),
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
            )

    # -- OAuth ------------------------------------------------------------------------------------------
    def on_consent(self, request: Request) -> Response:
        b = self.backend
        try:
            with b.lock:
                app = b.check_authorize_request(request.args.get("client_id"), request.args.get("redirect_uri"))
                user = b.users.get(b.browser_user_id or -1)
                teams = [t for t in b.teams.values() if user and user.id in t.member_ids]
        except ClickUpError as exc:
            return Response(
                _page("ClickUp: authorization error", f"<p class='error'>{html.escape(exc.err)} ({exc.ecode})</p>"),
                status=exc.status,
                content_type="text/html",
            )
        if user is None:
            return Response(
                _page("ClickUp", "<p>No user is logged in to the emulator.</p>"), status=400, content_type="text/html"
            )
        hidden = "".join(
            f"<input type='hidden' name='{k}' value='{html.escape(request.args.get(k, ''))}'>"
            for k in ("client_id", "redirect_uri", "state")
        )
        boxes = "".join(
            f"<label><input type='checkbox' name='team_ids' value='{t.id}' checked> {html.escape(t.name)}</label><br>"
            for t in teams
        )
        body = (
            f"<h1>{html.escape(app.name)} wants to access your ClickUp</h1>"
            f"<p>Logged in as <b>{html.escape(user.username)}</b> ({html.escape(user.email)})</p>"
            f"<form method='post' action='/api/authorize'>{hidden}"
            f"<input type='hidden' name='user_id' value='{user.id}'>"
            f"<fieldset><legend>Workspaces</legend>{boxes}</fieldset>"
            f"<button type='submit' name='decision' value='authorize' id='authorize'>Connect Workspace</button> "
            f"<button type='submit' name='decision' value='deny' id='deny'>Cancel</button></form>"
        )
        return Response(_page("ClickUp: authorize app", body), content_type="text/html")

    def on_authorize(self, request: Request) -> Response:
        form = request.form
        redirect_uri, state = form.get("redirect_uri", ""), form.get("state")
        try:
            with self.backend.lock:
                self.backend.check_authorize_request(form.get("client_id"), redirect_uri)
                if form.get("decision") == "deny":
                    query = {"error": "access_denied", **({"state": state} if state else {})}
                else:
                    code = self.backend.authorize_app(
                        form.get("client_id", ""), redirect_uri, int(form.get("user_id", "0")), form.getlist("team_ids")
                    )
                    query = {"code": code, **({"state": state} if state else {})}
        except ClickUpError as exc:
            return Response(
                _page("ClickUp: authorization error", f"<p class='error'>{html.escape(exc.err)}</p>"),
                status=exc.status,
                content_type="text/html",
            )
        separator = "&" if "?" in redirect_uri else "?"
        return Response(status=302, headers={"Location": f"{redirect_uri}{separator}{urlencode(query)}"})

    def on_token(self, request: Request) -> Response:
        data: dict[str, Any] = dict(request.args.items())
        data.update(_body(request))
        with self.backend.lock:
            token = self.backend.exchange_code(data.get("client_id"), data.get("client_secret"), data.get("code"))
        return _json({"access_token": token.value})

    # -- user and workspaces -----------------------------------------------------------------------------
    def on_user(self, request: Request, token: Token) -> Response:
        return _json(render.user(self.backend.users[token.user_id]))

    def on_teams(self, request: Request, token: Token) -> Response:
        b = self.backend
        return _json({"teams": [render.team(b, b.teams[t]) for t in token.team_ids if t in b.teams]})

    def _archived_ok(self, request: Request) -> Callable[[bool], bool]:
        return archived_filter(self.archived_reading, _flag(request, "archived"))

    def on_spaces(self, request: Request, token: Token, team_id: str) -> Response:
        self.backend.team_for(token, team_id)
        ok = self._archived_ok(request)
        spaces = [s for s in self.backend.spaces.values() if s.team_id == team_id and ok(s.archived)]
        return _json({"spaces": [render.space(s) for s in spaces]})

    def on_space(self, request: Request, token: Token, space_id: str) -> Response:
        return _json(render.space(self.backend.space_for(token, space_id)))

    def on_folders(self, request: Request, token: Token, space_id: str) -> Response:
        b = self.backend
        b.space_for(token, space_id)
        ok = self._archived_ok(request)
        folders = [f for f in b.folders.values() if f.space_id == space_id and not f.hidden and ok(f.archived)]
        return _json({"folders": [render.folder(b, f, lists_ok=ok) for f in folders]})

    def on_folder(self, request: Request, token: Token, folder_id: str) -> Response:
        return _json(render.folder(self.backend, self.backend.folder_for(token, folder_id)))

    def on_folder_lists(self, request: Request, token: Token, folder_id: str) -> Response:
        b = self.backend
        b.folder_for(token, folder_id)
        ok = self._archived_ok(request)
        lists = [x for x in b.lists.values() if x.folder_id == folder_id and ok(x.archived)]
        return _json({"lists": [render.list_item(b, x) for x in lists]})

    def on_folderless_lists(self, request: Request, token: Token, space_id: str) -> Response:
        b = self.backend
        b.space_for(token, space_id)
        ok = self._archived_ok(request)
        lists = [
            x for x in b.lists.values() if x.space_id == space_id and b.folders[x.folder_id].hidden and ok(x.archived)
        ]
        return _json({"lists": [render.list_item(b, x) for x in lists]})

    def on_list(self, request: Request, token: Token, list_id: str) -> Response:
        return _json(render.list_item(self.backend, self.backend.list_for(token, list_id)))

    def on_list_fields(self, request: Request, token: Token, list_id: str) -> Response:
        # Get Accessible Custom Fields (operationId GetAccessibleCustomFields): `{"fields": [...]}`, each as
        # CustomField.render documents; an id the token cannot see answers like every unknown id (settings).
        # `include_applied_objects` adds `applied_objects` to task-type-scoped fields: the emulator has no custom
        # task types, so no field is scoped and the flag changes nothing.
        lst = self.backend.list_for(token, list_id)
        return _json({"fields": [self.backend.fields[f].render() for f in lst.field_ids]})

    # -- tasks --------------------------------------------------------------------------------------------
    def on_create_task(self, request: Request, token: Token, list_id: str) -> Response:
        self.backend.list_for(token, list_id)
        task = self.backend.create_task(token.user_id, list_id, _body(request))
        return _json(render.task(self.backend, task, markdown=True))

    def on_task(self, request: Request, token: Token, task_id: str) -> Response:
        # Get Task: `?custom_task_ids=true&team_id=…` addresses the task by its custom task id
        if _flag(request, "custom_task_ids"):
            task = self.backend.task_by_custom_id(token, request.args.get("team_id"), task_id)
        else:
            task = self.backend.task_for(token, task_id)
        return _json(render.task(self.backend, task, markdown=_flag(request, "include_markdown_description")))

    def on_update_task(self, request: Request, token: Token, task_id: str) -> Response:
        self.backend.task_for(token, task_id)
        task = self.backend.update_task(token.user_id, task_id, _body(request))
        return _json(render.task(self.backend, task))

    def on_delete_task(self, request: Request, token: Token, task_id: str) -> Response:
        self.backend.task_for(token, task_id)
        self.backend.delete_task(token.user_id, task_id)
        return Response(status=204)

    def on_set_field(self, request: Request, token: Token, task_id: str, field_id: str) -> Response:
        self.backend.task_for(token, task_id)
        body = _body(request)
        if "value" not in body:
            raise errors.bad_request("Value is required", "FIELD_010")
        self.backend.set_field(token.user_id, task_id, field_id, body["value"])
        return _json({})

    def on_comments(self, request: Request, token: Token, task_id: str) -> Response:
        """Get Task Comments (reference GetTaskComments): newest first, 25 a page; the next (older) page with
        `start` (the last comment's date) and `start_id` (its id) together."""
        b = self.backend
        b.task_for(token, task_id)
        comments = list(reversed(b.comments.get(task_id, [])))
        start, start_id = request.args.get("start"), request.args.get("start_id")
        if (start is None) != (start_id is None):
            raise errors.bad_request("start and start_id go together", "INPUT_007")
        if start is not None:
            try:
                at = (int(start), int(start_id or 0))
            except ValueError:
                raise errors.bad_request("start and start_id must be numbers", "INPUT_007") from None
            comments = [c for c in comments if (c.date, int(c.id)) < at]
        return _json(
            {
                "comments": [
                    {
                        "id": c.id,
                        "comment": [{"text": c.text}],
                        "comment_text": c.text,
                        "user": b._user_brief(c.user_id),
                        "resolved": c.resolved,
                        "assignee": b._user_brief(c.assignee_id) if c.assignee_id else None,
                        "assigned_by": None,
                        "reactions": [],
                        "date": str(c.date),
                    }
                    for c in comments[:25]
                ]
            }
        )

    def on_add_comment(self, request: Request, token: Token, task_id: str) -> Response:
        self.backend.task_for(token, task_id)
        comment = self.backend.add_comment(token.user_id, task_id, _body(request).get("comment_text", ""))
        # CreateTaskCommentresponse: `id` a string in the reference, a number in real answers (Rendering)
        comment_id: Any = int(comment.id) if self.backend.rendering.comment_id_as_number else comment.id
        return _json({"id": comment_id, "hist_id": comment.id, "date": comment.date})

    def on_update_comment(self, request: Request, token: Token, comment_id: str) -> Response:
        self.backend.comment_for(token, comment_id)
        self.backend.update_comment(token.user_id, comment_id, _body(request))
        return _json({})

    def on_delete_comment(self, request: Request, token: Token, comment_id: str) -> Response:
        self.backend.comment_for(token, comment_id)
        self.backend.delete_comment(token.user_id, comment_id)
        return _json({})

    def on_list_tasks(self, request: Request, token: Token, list_id: str) -> Response:
        self.backend.list_for(token, list_id)
        return self._task_page(request, [t for t in self.backend.tasks.values() if t.list_id == list_id])

    def on_team_tasks(self, request: Request, token: Token, team_id: str) -> Response:
        b = self.backend
        b.team_for(token, team_id)
        tasks = [t for t in b.tasks.values() if b.spaces[b.lists[t.list_id].space_id].team_id == team_id]
        for name, key in (("space_ids", "space_id"), ("project_ids", "folder_id"), ("list_ids", "id")):
            wanted = set(_many(request, name))
            if wanted:
                tasks = [t for t in tasks if getattr(b.lists[t.list_id], key) in wanted]
        return self._task_page(request, tasks)

    def _task_page(self, request: Request, tasks: list[Any]) -> Response:
        b = self.backend
        if not _flag(request, "include_closed"):
            tasks = [t for t in tasks if t.status.type != "closed"]
        if not _flag(request, "subtasks"):
            tasks = [t for t in tasks if not t.parent]
        # Get Tasks' `archived` is the same undocumented flag: it follows the same reading (Get Filtered Team Tasks
        # documents no `archived`; without it a task list holds the active tasks).
        ok = self._archived_ok(request)
        tasks = [t for t in tasks if ok(t.archived)]
        statuses = {s.lower() for s in _many(request, "statuses")}
        if statuses:
            tasks = [t for t in tasks if t.status.status.lower() in statuses]
        for arg, attr in (("date_updated", "date_updated"), ("date_created", "date_created"), ("due_date", "due_date")):
            gt, lt = _int_arg(request, f"{arg}_gt"), _int_arg(request, f"{arg}_lt")
            if gt is not None:
                tasks = [t for t in tasks if getattr(t, attr) is not None and getattr(t, attr) > gt]
            if lt is not None:
                tasks = [t for t in tasks if getattr(t, attr) is not None and getattr(t, attr) < lt]
        order = request.args.get("order_by", "created")
        key = {
            "id": lambda t: t.id,
            "created": lambda t: (t.date_created, t.id),
            "updated": lambda t: (t.date_updated, t.id),
            "due_date": lambda t: (t.due_date or 0, t.id),
        }.get(order)
        if key is None:
            raise errors.bad_request("order_by invalid", "INPUT_002")
        # Newest first by default; reverse=true gives oldest first.
        tasks.sort(key=key, reverse=not _flag(request, "reverse"))
        page = _int_arg(request, "page") or 0
        chunk = tasks[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        markdown = _flag(request, "include_markdown_description")
        return _json(
            {
                "tasks": [render.task(b, t, markdown=markdown) for t in chunk],
                "last_page": (page + 1) * PAGE_SIZE >= len(tasks),
            }
        )

    # -- webhooks ----------------------------------------------------------------------------------------
    def on_webhooks(self, request: Request, token: Token, team_id: str) -> Response:
        self.backend.team_for(token, team_id)
        hooks = [h for h in self.backend.webhooks.values() if h.team_id == team_id and h.user_id == token.user_id]
        return _json({"webhooks": [h.render() for h in hooks]})

    def on_create_webhook(self, request: Request, token: Token, team_id: str) -> Response:
        hook = self.backend.create_webhook(token, team_id, _body(request))
        return _json({"id": hook.id, "webhook": hook.render()})

    def on_update_webhook(self, request: Request, token: Token, webhook_id: str) -> Response:
        hook = self.backend.update_webhook(token, webhook_id, _body(request))
        return _json({"id": hook.id, "webhook": hook.render()})

    def on_delete_webhook(self, request: Request, token: Token, webhook_id: str) -> Response:
        self.backend.webhook_for(token, webhook_id)
        self.backend.webhooks.pop(webhook_id)
        return _json({})


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:40em;margin:3em auto}button{padding:.5em 1em}"
        ".error{color:#b00}</style></head>"
        f"<body>{body}<p><small>ClickUp emulator (local)</small></p></body></html>"
    )


@dataclass
class _Call:
    """What `dispatch` learns of a call on the way: its token and the rate limit headers to answer with."""

    token: Token | None = None
    headers: dict[str, str] = field(default_factory=dict)
