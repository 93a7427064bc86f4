"""The emulator's state and ClickUp's rules: users, apps, tokens, workspaces and their hierarchy, tasks,
comments, custom fields and webhooks. `routes.py` only parses HTTP and renders what this returns.

Every change goes through `ClickUpBackend` under one lock and produces the webhook events ClickUp would send
(handed to `delivery.py`).
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from local.emulator import errors

PRIORITIES = {1: ("urgent", "#f50000"), 2: ("high", "#ffcc00"), 3: ("normal", "#6fddff"), 4: ("low", "#d8d8d8")}
DEFAULT_STATUSES = [
    ("to do", "open", "#d3d3d3"),
    ("in progress", "custom", "#4194f6"),
    ("complete", "closed", "#6bc950"),
]
PLAN_LIMITS = {"free": 100, "unlimited": 100, "business": 100, "business_plus": 1000, "enterprise": 10000}
TASK_EVENTS = {
    "taskCreated",
    "taskUpdated",
    "taskDeleted",
    "taskPriorityUpdated",
    "taskStatusUpdated",
    "taskAssigneeUpdated",
    "taskDueDateUpdated",
    "taskTagUpdated",
    "taskMoved",
    "taskCommentPosted",
    "taskCommentUpdated",
    "taskTimeEstimateUpdated",
    "taskTimeTrackedUpdated",
}
HIERARCHY_EVENTS = {
    f"{kind}{what}" for kind in ("list", "folder", "space") for what in ("Created", "Updated", "Deleted")
}
ALL_EVENTS = (
    TASK_EVENTS
    | HIERARCHY_EVENTS
    | {"goalCreated", "goalUpdated", "goalDeleted", "keyResultCreated", "keyResultUpdated", "keyResultDeleted"}
)


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class User:
    id: int
    username: str
    email: str
    color: str = "#7b68ee"
    timezone: str = "Europe/London"

    @property
    def initials(self) -> str:
        return "".join(p[0] for p in self.username.split()[:2]).upper()

    def brief(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "color": self.color,
            "initials": self.initials,
            "profilePicture": None,
        }


@dataclass
class App:
    client_id: str
    client_secret: str
    name: str
    redirect_uris: list[str]


@dataclass
class Token:
    value: str
    user_id: int
    kind: str  # "oauth" | "personal"
    team_ids: list[str]
    client_id: str | None = None
    revoked: bool = False
    id: str = field(default_factory=lambda: "tok_" + secrets.token_hex(6))  # safe to show in logs


@dataclass
class Status:
    status: str
    type: str
    color: str
    orderindex: int

    def render(self) -> dict[str, Any]:
        return {"status": self.status, "type": self.type, "orderindex": self.orderindex, "color": self.color}


# The Custom Field types ClickUp documents (developer.clickup.com/docs/customfields, "Custom Field types"): a field
# of another type cannot be made here, as none exists at ClickUp.
FIELD_TYPES = frozenset(
    {
        "url",
        "drop_down",
        "labels",
        "email",
        "phone",
        "date",
        "short_text",
        "text",
        "checkbox",
        "number",
        "currency",
        "tasks",
        "users",
        "emoji",
        "automatic_progress",
        "manual_progress",
        "location",
    }
)


@dataclass
class CustomField:
    """A Custom Field of a list. Its options (drop_down: `{"id", "name", "color", "orderindex"}`, labels: `{"id",
    "label", "color"}`) as developer.clickup.com/docs/customfields ("The type_config property") and Get Task's
    sample (api-samples/get-task.response.json) show them."""

    id: str
    name: str
    type: str
    options: list[dict[str, Any]] = field(default_factory=list)
    date_created: int = field(default_factory=now_ms)

    def render(self, value: Any = None, with_value: bool = False) -> dict[str, Any]:
        """The field as Get Accessible Custom Fields (`GET /list/{id}/field`, operationId
        GetAccessibleCustomFields) answers it: `id, name, type, type_config, date_created` (ms, a string),
        `hide_from_guests`; `with_value`: as a task's `custom_fields[]` (Get Task), which also carry `value` (when
        set) and `required`."""
        config: dict[str, Any] = {}
        if self.type == "drop_down":
            config = {"default": 0, "placeholder": None, "options": self.options}
        elif self.type == "labels":
            config = {"options": self.options}
        out = {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "type_config": config,
            "date_created": str(self.date_created),
            "hide_from_guests": False,
        }
        if with_value:
            out["required"] = False
            if value is not None:
                out["value"] = value
        return out


@dataclass
class Team:
    id: str
    name: str
    plan: str = "business"
    color: str = "#7b68ee"
    timezone: str = "Europe/London"
    member_ids: list[int] = field(default_factory=list)


@dataclass
class Space:
    id: str
    team_id: str
    name: str
    archived: bool = False
    statuses: list[Status] = field(default_factory=list)


@dataclass
class Folder:
    id: str
    space_id: str
    name: str
    hidden: bool = False  # folderless lists live in a hidden folder
    archived: bool = False
    orderindex: int = 0


@dataclass
class ClickList:
    id: str
    folder_id: str  # the hidden folder for folderless lists
    space_id: str
    name: str
    statuses: list[Status]
    override_statuses: bool = False
    archived: bool = False
    orderindex: int = 0
    field_ids: list[str] = field(default_factory=list)


@dataclass
class Comment:
    id: str
    task_id: str
    text: str
    user_id: int
    date: int
    resolved: bool = False
    assignee_id: int | None = None
    block_id: str = field(default_factory=lambda: f"block-{secrets.token_hex(4)}-{secrets.token_hex(2)}")

    def blocks(self) -> list[dict[str, Any]]:
        """The comment as ClickUp's webhook payload renders it: the text, then a closing newline block
        (taskCommentPosted payload, developer.clickup.com/docs/webhooktaskpayloads)."""
        return [{"text": self.text, "attributes": {}}, {"text": "\n", "attributes": {"block-id": self.block_id}}]


@dataclass
class Rendering:
    """Where ClickUp's documentation leaves a reading open, each reading is a setting (`PUT /_emulator/rendering`).

    - `comment_id_as_number`: the Create Task Comment answer's `id`. ClickUp's reference types it as a string
      (CreateTaskCommentresponse, example `"458"`); published real answers carry a number
      (`{"id": 90110164070264, ...}`). Default: the reference.
    - `comment_touches_task`: whether editing or deleting a comment moves the task's `date_updated` (undocumented).
      Default: it does not (the reading under which the reconciliation sweep learns least)."""

    comment_id_as_number: bool = False
    comment_touches_task: bool = False


@dataclass
class Task:
    id: str
    list_id: str
    name: str
    description: str
    status: Status
    creator_id: int
    date_created: int
    date_updated: int
    priority: int | None = None
    due_date: int | None = None
    due_date_time: bool = False
    start_date: int | None = None
    assignee_ids: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    parent: str | None = None
    date_closed: int | None = None
    archived: bool = False
    field_values: dict[str, Any] = field(default_factory=dict)
    time_estimate: int | None = None
    points: float | None = None
    custom_id: str | None = None  # set when the workspace uses Custom Task IDs (ClickUp Help "Custom Task IDs")


@dataclass
class Webhook:
    id: str
    team_id: str
    user_id: int
    client_id: str | None
    endpoint: str
    events: list[str]
    secret: str
    space_id: str | None = None
    folder_id: str | None = None
    list_id: str | None = None
    task_id: str | None = None
    status: str = "active"
    fail_count: int = 0

    def location(self) -> tuple[str, str] | None:
        for kind in ("task_id", "list_id", "folder_id", "space_id"):  # the most specific one wins
            value = getattr(self, kind)
            if value:
                return kind, value
        return None

    def render(self) -> dict[str, Any]:
        def as_int(v: str | None) -> int | None:
            return int(v) if v else None

        return {
            "id": self.id,
            "userid": self.user_id,
            "team_id": int(self.team_id),
            "endpoint": self.endpoint,
            "client_id": self.client_id or "",
            "events": self.events,
            "task_id": self.task_id,
            "list_id": as_int(self.list_id),
            "folder_id": as_int(self.folder_id),
            "space_id": as_int(self.space_id),
            "health": {"status": self.status, "fail_count": self.fail_count},
            "secret": self.secret,
        }


@dataclass
class Event:
    """A change that webhooks may be told about."""

    name: str
    team_id: str
    payload: dict[str, Any]  # without webhook_id (added per webhook)
    location: dict[str, str | None]  # task_id, list_id, folder_id, space_id of the changed thing


EventSink = Callable[[Event], None]


class ClickUpBackend:
    def __init__(self, base_url: str = "http://127.0.0.1:8010") -> None:
        self.base_url = base_url
        self.lock = threading.RLock()
        self._ids = itertools.count(90_000_001)
        self._history_ids = itertools.count(2_800_000_000_000_000_000)
        self.sink: EventSink = lambda event: None
        self.unknown_id_answer = "oauth_023"  # errors.UNKNOWN_ID_ANSWERS: what an unknown id gets on the API
        self.reset()

    # -- state ---------------------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.users: dict[int, User] = {}
            self.apps: dict[str, App] = {}
            self.tokens: dict[str, Token] = {}
            self.codes: dict[str, dict[str, Any]] = {}
            self.teams: dict[str, Team] = {}
            self.spaces: dict[str, Space] = {}
            self.folders: dict[str, Folder] = {}
            self.lists: dict[str, ClickList] = {}
            self.fields: dict[str, CustomField] = {}
            self.tasks: dict[str, Task] = {}
            self.deleted_tasks: set[str] = set()
            self.comments: dict[str, list[Comment]] = {}
            self.webhooks: dict[str, Webhook] = {}
            self.browser_user_id: int | None = None  # who is "logged in" on the consent page
            # How Update Task takes `priority: null` / `due_date: null`, which its schema does not allow (integers
            # only) while Create Task documents priority "int 1-4 or null": "clears" (the default: the field is
            # cleared, as a task renders an unset one), "refused" (400 INPUT_003/INPUT_004) or "ignored" (200, the
            # field unchanged). The README's differences table; the product's tests run under each.
            self.update_null: str = "clears"
            self.rendering = Rendering()
            self.webhook_uniqueness: str = "endpoint_location"  # see _same_configuration

    def new_id(self) -> str:
        return str(next(self._ids))

    def new_task_id(self) -> str:
        n = next(self._ids)
        alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
        out = ""
        while n:
            n, r = divmod(n, 36)
            out = alphabet[r] + out
        return out

    # -- users, apps, tokens ----------------------------------------------------------------------------
    def create_user(self, username: str, email: str, user_id: int | None = None) -> User:
        with self.lock:
            user = User(id=user_id or int(self.new_id()), username=username, email=email)
            self.users[user.id] = user
            if self.browser_user_id is None:
                self.browser_user_id = user.id
            return user

    def create_app(
        self, name: str, redirect_uris: list[str], client_id: str | None = None, client_secret: str | None = None
    ) -> App:
        with self.lock:
            app = App(
                client_id=client_id or secrets.token_hex(16).upper(),
                client_secret=client_secret or secrets.token_hex(32).upper(),
                name=name,
                redirect_uris=list(redirect_uris),
            )
            self.apps[app.client_id] = app
            return app

    def create_personal_token(self, user_id: int) -> Token:
        with self.lock:
            user = self._user(user_id)
            token = Token(
                value=f"pk_{user.id}_{secrets.token_hex(16).upper()}",
                user_id=user.id,
                kind="personal",
                team_ids=[t.id for t in self.teams.values() if user.id in t.member_ids],
            )
            self.tokens[token.value] = token
            return token

    def authorize_app(self, client_id: str, redirect_uri: str | None, user_id: int, team_ids: list[str]) -> str:
        """The consent page's Authorize: returns a single-use code."""
        with self.lock:
            app = self.check_authorize_request(client_id, redirect_uri)
            user = self._user(user_id)
            allowed = {t.id for t in self.teams.values() if user.id in t.member_ids}
            chosen = [t for t in team_ids if t in allowed]
            if not chosen:
                raise errors.bad_request("Select at least one Workspace", "OAUTH_023")
            code = secrets.token_hex(16).upper()
            self.codes[code] = {"client_id": app.client_id, "user_id": user.id, "team_ids": chosen}
            return code

    def check_authorize_request(self, client_id: str | None, redirect_uri: str | None) -> App:
        app = self.apps.get(client_id or "")
        if app is None:
            raise errors.client_not_found()
        if not redirect_uri:
            raise errors.redirect_missing()
        if not any(redirect_uri == uri or redirect_uri.startswith(uri.rstrip("/") + "/") for uri in app.redirect_uris):
            raise errors.redirect_not_registered()
        return app

    def exchange_code(self, client_id: str | None, client_secret: str | None, code: str | None) -> Token:
        with self.lock:
            app = self.apps.get(client_id or "")
            if app is None:
                raise errors.client_not_found()
            if not secrets.compare_digest(app.client_secret, client_secret or ""):
                raise errors.client_secret_invalid()
            grant = self.codes.pop(code or "", None)  # single use
            if grant is None or grant["client_id"] != app.client_id:
                raise errors.code_invalid()
            # One token per user and app: authorizing again returns the same token with the new Workspaces.
            for token in self.tokens.values():
                if token.client_id == app.client_id and token.user_id == grant["user_id"] and not token.revoked:
                    token.team_ids = grant["team_ids"]
                    return token
            token = Token(
                value=f"{grant['user_id']}_{secrets.token_hex(20)}",
                user_id=grant["user_id"],
                kind="oauth",
                team_ids=grant["team_ids"],
                client_id=app.client_id,
            )
            self.tokens[token.value] = token
            return token

    def revoke_token(self, value_or_id: str) -> Token:
        with self.lock:
            token = self.tokens.get(value_or_id) or next((t for t in self.tokens.values() if t.id == value_or_id), None)
            if token is None:
                raise errors.token_not_found()
            token.revoked = True
            return token

    def authenticate(self, header: str | None) -> Token:
        if not header:
            raise errors.auth_header_required()
        value = header[7:].strip() if header[:7].lower() == "bearer " else header.strip()
        token = self.tokens.get(value)
        if token is None:
            raise errors.token_not_found()
        if token.revoked:
            raise errors.token_revoked()
        return token

    # -- hierarchy -----------------------------------------------------------------------------------
    def create_team(
        self, name: str, member_ids: Iterable[int], plan: str = "business", team_id: str | None = None
    ) -> Team:
        with self.lock:
            team = Team(id=team_id or self.new_id(), name=name, plan=plan, member_ids=list(member_ids))
            self.teams[team.id] = team
            for token in self.tokens.values():  # personal tokens cover every Workspace of their user
                if token.kind == "personal" and token.user_id in team.member_ids:
                    token.team_ids.append(team.id)
            return team

    def create_space(
        self,
        team_id: str,
        name: str,
        statuses: list[tuple[str, str, str]] | None = None,
        archived: bool = False,
        actor: int | None = None,
    ) -> Space:
        with self.lock:
            team = self.teams[team_id]
            space = Space(
                id=self.new_id(),
                team_id=team.id,
                name=name,
                archived=archived,
                statuses=_statuses(statuses or DEFAULT_STATUSES),
            )
            self.spaces[space.id] = space
            self._emit_hierarchy("spaceCreated", team.id, space_id=space.id, actor=actor)
            return space

    def create_folder(
        self, space_id: str, name: str, hidden: bool = False, actor: int | None = None, archived: bool = False
    ) -> Folder:
        with self.lock:
            space = self.spaces[space_id]
            folder = Folder(
                id=self.new_id(),
                space_id=space.id,
                name=name,
                hidden=hidden,
                archived=archived,
                orderindex=sum(1 for f in self.folders.values() if f.space_id == space.id),
            )
            self.folders[folder.id] = folder
            if not hidden:
                self._emit_hierarchy(
                    "folderCreated", space.team_id, folder_id=folder.id, space_id=space.id, actor=actor
                )
            return folder

    def hidden_folder(self, space_id: str) -> Folder:
        for folder in self.folders.values():
            if folder.space_id == space_id and folder.hidden:
                return folder
        return self.create_folder(space_id, "hidden", hidden=True)

    def create_list(
        self,
        name: str,
        folder_id: str | None = None,
        space_id: str | None = None,
        statuses: list[tuple[str, str, str]] | None = None,
        actor: int | None = None,
        archived: bool = False,
    ) -> ClickList:
        with self.lock:
            folder = self.folders[folder_id] if folder_id else self.hidden_folder(str(space_id))
            space = self.spaces[folder.space_id]
            lst = ClickList(
                id=self.new_id(),
                folder_id=folder.id,
                space_id=space.id,
                name=name,
                statuses=_statuses(statuses) if statuses else [Status(**vars(s)) for s in space.statuses],
                override_statuses=bool(statuses),
                archived=archived,
                orderindex=sum(1 for x in self.lists.values() if x.folder_id == folder.id),
            )
            self.lists[lst.id] = lst
            self._emit_hierarchy(
                "listCreated", space.team_id, list_id=lst.id, folder_id=folder.id, space_id=space.id, actor=actor
            )
            return lst

    def create_field(self, list_id: str, name: str, type: str, options: list[str] | None = None) -> CustomField:
        with self.lock:
            lst = self.lists[list_id]
            import uuid

            if type not in FIELD_TYPES:
                raise ValueError(f"ClickUp has no Custom Field type {type!r}")
            opts: list[dict[str, Any]]
            if type == "labels":  # a label is `label`, a drop-down option `name` (docs/customfields)
                opts = [{"id": str(uuid.uuid4()), "label": o, "color": None} for o in options or []]
            else:
                opts = [
                    {"id": str(uuid.uuid4()), "name": o, "color": None, "orderindex": i}
                    for i, o in enumerate(options or [])
                ]
            custom = CustomField(id=str(uuid.uuid4()), name=name, type=type, options=opts)
            self.fields[custom.id] = custom
            lst.field_ids.append(custom.id)
            return custom

    def rename(self, kind: str, item_id: str, name: str, actor: int | None = None) -> None:
        with self.lock:
            store = self._store(kind)
            item = store.get(item_id)
            if item is None:
                raise errors.unknown_id()
            before = item.name
            item.name = name
            self._emit_hierarchy(
                f"{kind}Updated",
                self._team_of(kind, item_id),
                actor=actor,
                field_name="name",
                before=before,
                after=name,
                **self._location_of(kind, item_id),
            )

    def set_archived(self, kind: str, item_id: str, archived: bool, actor: int | None = None) -> None:
        """Archive or unarchive a space, folder or list (a ClickUp user doing it in the app): the item's own
        `archived` changes, its contents keep theirs, and `{kind}Updated` fires (the event ClickUp documents for
        a change to the item; the history item's `field` is the emulator's guess, ClickUp documents none)."""
        with self.lock:
            item = self._store(kind).get(item_id)
            if item is None:
                raise errors.unknown_id()
            before, item.archived = item.archived, bool(archived)
            self._emit_hierarchy(
                f"{kind}Updated",
                self._team_of(kind, item_id),
                actor=actor,
                field_name="archived",
                before=before,
                after=item.archived,
                **self._location_of(kind, item_id),
            )

    def delete(self, kind: str, item_id: str, actor: int | None = None) -> None:
        with self.lock:
            store = self._store(kind)
            if item_id not in store:
                raise errors.unknown_id()
            team_id = self._team_of(kind, item_id)
            location = self._location_of(kind, item_id)
            if kind == "space":
                for folder in [f for f in self.folders.values() if f.space_id == item_id]:
                    self._drop_folder(folder.id)
            elif kind == "folder":
                self._drop_folder(item_id)
            else:
                self._drop_list(item_id)
            store.pop(item_id, None)
            self._emit_hierarchy(f"{kind}Deleted", team_id, actor=actor, **location)

    def _store(self, kind: str) -> dict[str, Any]:
        stores: dict[str, dict[str, Any]] = {"space": self.spaces, "folder": self.folders, "list": self.lists}
        return stores[kind]

    def _drop_folder(self, folder_id: str) -> None:
        for lst in [x for x in self.lists.values() if x.folder_id == folder_id]:
            self._drop_list(lst.id)
        self.folders.pop(folder_id, None)

    def _drop_list(self, list_id: str) -> None:
        for task in [t for t in self.tasks.values() if t.list_id == list_id]:
            self.tasks.pop(task.id)
            self.deleted_tasks.add(task.id)
        self.lists.pop(list_id, None)

    # -- visibility ----------------------------------------------------------------------------------
    def team_for(self, token: Token, team_id: str) -> Team:
        team = self.teams.get(team_id)
        if team is None:
            raise errors.unknown_id()
        if team_id not in token.team_ids:
            raise errors.team_not_authorized()
        return team

    def space_for(self, token: Token, space_id: str) -> Space:
        space = self.spaces.get(space_id)
        if space is None:
            raise self._unknown("space")
        self.team_for(token, space.team_id)
        return space

    def folder_for(self, token: Token, folder_id: str) -> Folder:
        folder = self.folders.get(folder_id)
        if folder is None or folder.hidden:
            raise self._unknown("folder")
        self.space_for(token, folder.space_id)
        return folder

    def list_for(self, token: Token, list_id: str) -> ClickList:
        lst = self.lists.get(list_id)
        if lst is None:
            raise self._unknown("list")
        self.space_for(token, lst.space_id)
        return lst

    def task_for(self, token: Token, task_id: str) -> Task:
        task = self.tasks.get(task_id)
        if task is None:
            raise self._unknown("task")
        self.list_for(token, task.list_id)
        return task

    def task_by_custom_id(self, token: Token, team_id: str | None, custom_id: str) -> Task:
        """A task addressed by its custom task id (Get Task: `custom_task_ids=true` and then `team_id` is required,
        "the Workspace ID must be provided using the team_id parameter"); the task must be in that workspace."""
        if not team_id:
            raise errors.bad_request("Team id required when using custom task ids")
        self.team_for(token, team_id)
        for task in self.tasks.values():
            if task.custom_id == custom_id and self._team_of("list", task.list_id) == team_id:
                return self.task_for(token, task.id)
        raise self._unknown("task")

    def _unknown(self, kind: str) -> errors.ClickUpError:
        """An API read or write of a space, folder, list or task id that does not exist (or is not visible)."""
        return errors.not_found(kind) if self.unknown_id_answer == "not_found" else errors.unknown_id()

    def _team_of(self, kind: str, item_id: str) -> str:
        if kind == "space":
            return self.spaces[item_id].team_id
        if kind == "folder":
            return self.spaces[self.folders[item_id].space_id].team_id
        return self.spaces[self.lists[item_id].space_id].team_id

    def _location_of(self, kind: str, item_id: str) -> dict[str, str]:
        if kind == "space":
            return {"space_id": item_id}
        if kind == "folder":
            return {"folder_id": item_id, "space_id": self.folders[item_id].space_id}
        lst = self.lists[item_id]
        return {"list_id": lst.id, "folder_id": lst.folder_id, "space_id": lst.space_id}

    # -- tasks -----------------------------------------------------------------------------------------
    def create_task(self, token_user: int, list_id: str, body: dict[str, Any]) -> Task:
        with self.lock:
            lst = self.lists[list_id]
            name = body.get("name")
            if not isinstance(name, str) or not name.strip():
                raise errors.bad_request("Task name invalid", "INPUT_005")
            status = self._status_in(lst, body.get("status")) if body.get("status") else lst.statuses[0]
            priority = _priority(body.get("priority"))
            ts = now_ms()
            task = Task(
                id=self.new_task_id(),
                list_id=lst.id,
                name=name,
                description=str(body.get("markdown_content") or body.get("description") or ""),
                status=status,
                creator_id=token_user,
                date_created=ts,
                date_updated=ts,
                priority=priority,
                due_date=_ms_or_none(body.get("due_date")),
                due_date_time=bool(body.get("due_date_time", False)),
                start_date=_ms_or_none(body.get("start_date")),
                assignee_ids=self._members_only(lst.space_id, [int(a) for a in body.get("assignees") or []]),
                tags=_tag_names(body.get("tags")),
                parent=body.get("parent"),
                time_estimate=_ms_or_none(body.get("time_estimate")),
                points=body.get("points"),
            )
            self.tasks[task.id] = task
            self.comments[task.id] = []
            for item in body.get("custom_fields") or []:
                if isinstance(item, dict) and item.get("id") in lst.field_ids:
                    task.field_values[item["id"]] = self._field_value(self.fields[item["id"]], item.get("value"))
            self._emit_task("taskCreated", task, token_user, "task_creation", None, None, ts)
            self._emit_task("taskStatusUpdated", task, token_user, "status", None, status.render(), ts)
            return task

    def update_task(self, actor: int, task_id: str, body: dict[str, Any]) -> Task:
        with self.lock:
            task = self.tasks[task_id]
            lst = self.lists[task.list_id]
            changes: list[Change] = []  # (granular event or "", field, before, after)
            body = self._update_nulls(body)
            self._update_text(task, body, changes)
            if body.get("status") is not None:
                status = self._status_in(lst, body["status"])
                if status.status != task.status.status:
                    changes.append(("taskStatusUpdated", "status", task.status.render(), status.render()))
                    task.status = status
                    task.date_closed = now_ms() if status.type == "closed" else None
            _update_priority_and_due_date(task, body, changes)
            assignees = body.get("assignees")
            if isinstance(assignees, dict):
                self._update_assignees(task, lst, assignees, changes)
            if "archived" in body:
                task.archived = bool(body["archived"])
            if changes:
                task.date_updated = now_ms()
                self._emit_changes(task, actor, changes)
            return task

    def _update_nulls(self, body: dict[str, Any]) -> dict[str, Any]:
        """`priority: null` / `due_date: null` under the emulator's `update_null` reading: refused (400 INPUT_003 /
        INPUT_004), ignored (dropped from the body), or clearing the field (the body as it is)."""
        for name, ecode in (("priority", "INPUT_003"), ("due_date", "INPUT_004")):
            if name in body and body[name] is None and self.update_null == "refused":
                raise errors.bad_request(f"{name} invalid", ecode)
        if self.update_null == "ignored":
            return {k: v for k, v in body.items() if not (k in ("priority", "due_date") and v is None)}
        return body

    @staticmethod
    def _update_text(task: Task, body: dict[str, Any], changes: list[Change]) -> None:
        """The name (400 INPUT_005 when empty or not text) and the description (`markdown_content` first, then
        `description`; a single space clears it)."""
        if "name" in body and body["name"] != task.name:
            if not isinstance(body["name"], str) or not body["name"].strip():
                raise errors.bad_request("Task name invalid", "INPUT_005")
            changes.append(("", "name", task.name, body["name"]))
            task.name = body["name"]
        for key in ("markdown_content", "description"):
            if key in body and body[key] is not None:
                new = "" if body[key] == " " else str(body[key])
                if new != task.description:
                    changes.append(("", "content", task.description, new))
                    task.description = new
                break

    def _update_assignees(self, task: Task, lst: ClickList, assignees: dict[str, Any], changes: list[Change]) -> None:
        """`assignees: {add, rem}`. A user who is not a member of the task's workspace is not assigned, and the
        update still answers 200 (ClickUp documents nothing for it; observed by the portal's users as "accepted,
        then missing at ClickUp", issue 14): the README's differences table."""
        for uid in self._members_only(lst.space_id, [int(u) for u in assignees.get("add") or []]):
            if int(uid) not in task.assignee_ids:
                task.assignee_ids.append(int(uid))
                changes.append(("taskAssigneeUpdated", "assignee_add", None, self._user_brief(int(uid))))
        for uid in assignees.get("rem") or []:
            if int(uid) in task.assignee_ids:
                task.assignee_ids.remove(int(uid))
                changes.append(("taskAssigneeUpdated", "assignee_rem", self._user_brief(int(uid)), None))

    def _members_only(self, space_id: str, user_ids: list[int]) -> list[int]:
        """The user ids that are members of the space's workspace (`GET /team` members), in order, once each."""
        members = set(self.teams[self.spaces[space_id].team_id].member_ids)
        return list(dict.fromkeys(u for u in user_ids if u in members))

    def move_task(self, actor: int, task_id: str, list_id: str) -> Task:
        with self.lock:
            task = self.tasks[task_id]
            target = self.lists.get(list_id)
            if target is None:
                raise errors.unknown_id()
            before, task.list_id = self.lists[task.list_id], target.id
            if task.status.status not in {s.status for s in target.statuses}:
                task.status = target.statuses[0]
            task.date_updated = now_ms()
            self._emit_task(
                "taskMoved",
                task,
                actor,
                "section_moved",
                self._list_ref(before),
                self._list_ref(target),
                task.date_updated,
            )
            return task

    def delete_task(self, actor: int, task_id: str) -> None:
        with self.lock:
            task = self.tasks.pop(task_id)
            self.deleted_tasks.add(task_id)
            lst = self.lists[task.list_id]
            self.sink(
                Event(
                    "taskDeleted",
                    self.spaces[lst.space_id].team_id,
                    {"event": "taskDeleted", "task_id": task.id, "team_id": self.spaces[lst.space_id].team_id},
                    {"task_id": task.id, "list_id": lst.id, "folder_id": lst.folder_id, "space_id": lst.space_id},
                )
            )

    def add_comment(self, actor: int, task_id: str, text: str) -> Comment:
        with self.lock:
            if not isinstance(text, str) or not text.strip():
                raise errors.bad_request("Comment text required", "INPUT_005")
            task = self.tasks[task_id]
            comment = Comment(id=self.new_id(), task_id=task.id, text=text, user_id=actor, date=now_ms())
            self.comments.setdefault(task.id, []).append(comment)
            self._emit_comment("taskCommentPosted", task, actor, comment, comment.date)
            return comment

    def comment_for(self, token: Token, comment_id: str) -> Comment:
        """A task comment the token can see (Update/Delete Comment take the comment's id alone)."""
        for comments in self.comments.values():
            for comment in comments:
                if comment.id == str(comment_id):
                    self.task_for(token, comment.task_id)
                    return comment
        raise errors.unknown_id()  # as for any id that does not exist or is not visible

    def update_comment(self, actor: int, comment_id: str, body: dict[str, Any]) -> Comment:
        """Update Comment (`PUT /v2/comment/{comment_id}`, reference UpdateComment): replaces the text, sets the
        assignee and `resolved`. A new text fires `taskCommentUpdated` with a `comment` history item shaped like
        taskCommentPosted's (the comment's id in `after`, the comment object with the new text)."""
        with self.lock:
            comment = self._comment(comment_id)
            text = body.get("comment_text")
            if text is not None and (not isinstance(text, str) or not text.strip()):
                raise errors.bad_request("Comment text required", "INPUT_005")
            if "resolved" in body and not isinstance(body["resolved"], bool):
                raise errors.bad_request("Resolved must be a boolean", "INPUT_006")
            if body.get("assignee") is not None:
                comment.assignee_id = int(body["assignee"])
            if "resolved" in body:
                comment.resolved = bool(body["resolved"])
            if text is not None and text != comment.text:
                comment.text = text
                task = self.tasks[comment.task_id]
                when = now_ms()
                if self.rendering.comment_touches_task:
                    task.date_updated = when
                self._emit_comment("taskCommentUpdated", task, actor, comment, when)
            return comment

    def delete_comment(self, actor: int, comment_id: str) -> None:
        """Delete Comment (`DELETE /v2/comment/{comment_id}`, reference DeleteComment). ClickUp documents no webhook
        event for a deleted comment (the 28 event names, developer.clickup.com/docs/webhooks): none is sent."""
        with self.lock:
            comment = self._comment(comment_id)
            self.comments[comment.task_id].remove(comment)
            task = self.tasks.get(comment.task_id)
            if task is not None and self.rendering.comment_touches_task:
                task.date_updated = now_ms()

    def _comment(self, comment_id: str) -> Comment:
        for comments in self.comments.values():
            for comment in comments:
                if comment.id == str(comment_id):
                    return comment
        raise errors.unknown_id()

    def _emit_comment(self, name: str, task: Task, actor: int, comment: Comment, date: int) -> None:
        # The `comment` history item of ClickUp's documented taskCommentPosted payload (webhooktaskpayloads):
        # `after` the comment id, and the comment with its blocks and its `text_content` ("…\n").
        item = self._history(task, actor, "comment", None, comment.id, date)
        author = self._user_brief(comment.user_id)
        item["comment"] = {
            "id": comment.id,
            "date": str(comment.date),
            "parent": task.id,
            "type": 1,
            "comment": comment.blocks(),
            "text_content": comment.text + "\n",
            "x": None,
            "y": None,
            "image_y": None,
            "image_x": None,
            "page": None,
            "comment_number": None,
            "page_id": None,
            "page_name": None,
            "view_id": None,
            "view_name": None,
            "team": None,
            "user": author,
            "new_thread_count": 0,
            "new_mentioned_thread_count": 0,
            "email_attachments": [],
            "threaded_users": [],
            "threaded_replies": 0,
            "threaded_assignees": 0,
            "threaded_assignees_members": [],
            "threaded_unresolved_count": 0,
            "thread_followers": [author] if author else [],
            "group_thread_followers": [],
            "reactions": [],
            "emails": [],
        }
        self._send_task_event(name, task, [item])

    def set_field(self, actor: int, task_id: str, field_id: str, value: Any) -> None:
        with self.lock:
            task = self.tasks[task_id]
            if field_id not in self.lists[task.list_id].field_ids:
                raise errors.bad_request("Custom field not found on this task's list", "FIELD_033")
            custom = self.fields[field_id]
            before = task.field_values.get(field_id)
            task.field_values[field_id] = self._field_value(custom, value)
            task.date_updated = now_ms()
            self._emit_changes(task, actor, [("", "custom_field", before, task.field_values[field_id])])

    def _field_value(self, custom: CustomField, value: Any) -> Any:
        if custom.type == "drop_down":
            ids = {o["id"] for o in custom.options}
            orderindexes = {o["orderindex"]: o["id"] for o in custom.options}
            if value in ids:
                return value
            if isinstance(value, int) and value in orderindexes:
                return orderindexes[value]
            raise errors.bad_request("Value must be an option id of this drop down", "FIELD_015")
        if custom.type == "number" and not isinstance(value, (int, float)):
            raise errors.bad_request("Value must be a number", "FIELD_011")
        if custom.type in ("short_text", "text", "email", "url") and not isinstance(value, str):
            raise errors.bad_request("Value must be a string", "FIELD_012")
        return value

    def _status_in(self, lst: ClickList, name: Any) -> Status:
        for status in lst.statuses:
            if isinstance(name, str) and status.status.lower() == name.lower():
                return status
        raise errors.bad_request("Status does not exist", "CRTSK_001")

    # -- webhooks ---------------------------------------------------------------------------------------
    def create_webhook(self, token: Token, team_id: str, body: dict[str, Any]) -> Webhook:
        with self.lock:
            self.team_for(token, team_id)
            endpoint, events = body.get("endpoint"), body.get("events")
            if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
                raise errors.bad_request("Endpoint invalid", "OAUTH_113")
            events = _events(events)
            location = {
                k: (str(body[k]) if body.get(k) is not None else None)
                for k in ("space_id", "folder_id", "list_id", "task_id")
            }
            for hook in self.webhooks.values():
                if (
                    hook.team_id == team_id
                    and hook.user_id == token.user_id
                    and all(getattr(hook, k) == v for k, v in location.items())
                    and self._same_configuration(hook, endpoint, events)
                ):
                    raise errors.webhook_exists()
            import uuid

            hook = Webhook(
                id=str(uuid.uuid4()),
                team_id=team_id,
                user_id=token.user_id,
                client_id=token.client_id,
                endpoint=endpoint,
                events=events,
                secret=secrets.token_hex(32).upper(),
                space_id=location["space_id"],
                folder_id=location["folder_id"],
                list_id=location["list_id"],
                task_id=location["task_id"],
            )
            self.webhooks[hook.id] = hook
            return hook

    def _same_configuration(self, hook: Webhook, endpoint: str, events: list[str]) -> bool:
        """Whether a create duplicates `hook` ("Webhook configuration already exists", OAUTH_171). ClickUp's
        common_errors page (https://developer.clickup.com/docs/common_errors) names the error and not what makes
        two webhooks the same, so each reading reported publicly is a setting (`PUT /_emulator/webhooks/uniqueness`):
        `endpoint_location` (default: one webhook per user, endpoint and location, the reading issue 14 reports),
        `events_location` (the api-evangelist errors registry quoted in FACTS.md: "duplicate events+location"), and
        `endpoint_events_location` (Apache Camel's ClickUp component reuses the webhook matching endpoint and
        events). In every reading the webhook is the user's own: webhooks are "tied to the user" whose token
        created them (https://developer.clickup.com/docs/webhooks) and each user lists only their own."""
        reading = self.webhook_uniqueness
        same_endpoint = hook.endpoint == endpoint
        same_events = sorted(hook.events) == sorted(events)
        if reading == "events_location":
            return same_events
        if reading == "endpoint_events_location":
            return same_endpoint and same_events
        return same_endpoint

    def webhook_for(self, token: Token, webhook_id: str) -> Webhook:
        hook = self.webhooks.get(webhook_id)
        if hook is None or hook.user_id != token.user_id:
            raise errors.ClickUpError(404, "Webhook not found", "OAUTH_112")
        return hook

    def update_webhook(self, token: Token, webhook_id: str, body: dict[str, Any]) -> Webhook:
        with self.lock:
            hook = self.webhook_for(token, webhook_id)
            if body.get("endpoint"):
                hook.endpoint = str(body["endpoint"])
            if body.get("events"):
                hook.events = _events(body["events"])
            if body.get("status") == "active":
                hook.status, hook.fail_count = "active", 0
            elif body.get("status") in ("failing", "suspended"):
                hook.status = str(body["status"])
            return hook

    def matching_webhooks(self, event: Event) -> list[Webhook]:
        with self.lock:
            out = []
            for hook in self.webhooks.values():
                if hook.team_id != event.team_id or hook.status == "suspended":
                    continue
                if "*" not in hook.events and event.name not in hook.events:
                    continue
                owner = self.users.get(hook.user_id)
                if owner is None or owner.id not in self.teams[hook.team_id].member_ids:
                    continue  # a webhook of a user who left the Workspace stays but stops firing
                location = hook.location()
                if location and event.location.get(location[0]) != location[1]:
                    continue
                out.append(hook)
            return out

    # -- events ----------------------------------------------------------------------------------------
    def _user_brief(self, user_id: int) -> dict[str, Any] | None:
        user = self.users.get(user_id)
        return user.brief() if user else None

    def _list_ref(self, lst: ClickList) -> dict[str, Any]:
        folder, space = self.folders[lst.folder_id], self.spaces[lst.space_id]
        return {
            "id": lst.id,
            "name": lst.name,
            "category": {"id": folder.id, "name": folder.name, "hidden": folder.hidden},
            "project": {"id": space.id, "name": space.name},
        }

    def _history(
        self,
        task: Task,
        actor: int,
        field_name: str,
        before: Any,
        after: Any,
        date: int,
    ) -> dict[str, Any]:
        return {
            "id": str(next(self._history_ids)),
            "type": 1,
            "date": str(date),
            "field": field_name,
            "parent_id": task.list_id,
            "data": {},
            "source": None,
            "user": self._user_brief(actor),
            "before": before,
            "after": after,
        }

    def _emit_task(
        self, name: str, task: Task, actor: int, field_name: str, before: Any, after: Any, date: int
    ) -> None:
        self._send_task_event(name, task, [self._history(task, actor, field_name, before, after, date)])

    def _emit_changes(self, task: Task, actor: int, changes: list[tuple[str, str, Any, Any]]) -> None:
        # ClickUp sends the granular event and, beside it, a generic taskUpdated with the same history items.
        items = [(granular, self._history(task, actor, f, b, a, task.date_updated)) for granular, f, b, a in changes]
        for granular, item in items:
            if granular:
                self._send_task_event(granular, task, [item])
        self._send_task_event("taskUpdated", task, [item for _, item in items])

    def _send_task_event(self, name: str, task: Task, history: list[dict[str, Any]]) -> None:
        lst = self.lists[task.list_id]
        team_id = self.spaces[lst.space_id].team_id
        payload = {"event": name, "history_items": history, "task_id": task.id, "team_id": team_id}
        self.sink(
            Event(
                name,
                team_id,
                payload,
                {"task_id": task.id, "list_id": lst.id, "folder_id": lst.folder_id, "space_id": lst.space_id},
            )
        )

    def _emit_hierarchy(
        self,
        name: str,
        team_id: str,
        actor: int | None = None,
        field_name: str | None = None,
        before: Any = None,
        after: Any = None,
        **location: str,
    ) -> None:
        kind = name.split("C")[0].split("U")[0].split("D")[0]  # "list" | "folder" | "space"
        entity_key = f"{kind}_id"
        payload: dict[str, Any] = {
            "event": name,
            entity_key: location.get(entity_key),
            "team_id": team_id,
            "history_items": [],
        }
        if field_name:
            payload["history_items"] = [
                {
                    "id": str(next(self._history_ids)),
                    "type": {"space": 4, "folder": 5, "list": 6}[kind],
                    "date": str(now_ms()),
                    "field": field_name,
                    # listUpdated (webhook-samples/listUpdated.json): `parent_id` is the list's own id; for
                    # folders and spaces ClickUp shows no sample, so theirs is the emulator's guess (the item itself)
                    "parent_id": location.get(entity_key),
                    "data": {},
                    "source": None,
                    "user": self._user_brief(actor) if actor else None,
                    "before": before,
                    "after": after,
                }
            ]
        self.sink(
            Event(name, team_id, payload, {k: location.get(k) for k in ("task_id", "list_id", "folder_id", "space_id")})
        )

    def _user(self, user_id: int) -> User:
        user = self.users.get(int(user_id))
        if user is None:
            raise errors.bad_request("User not found", "USER_001")
        return user


def _statuses(spec: list[tuple[str, str, str]] | list[dict[str, Any]]) -> list[Status]:
    out = []
    for i, item in enumerate(spec):
        if isinstance(item, dict):
            out.append(
                Status(
                    status=item["status"],
                    type=item.get("type", "custom"),
                    color=item.get("color", "#87909e"),
                    orderindex=i,
                )
            )
        else:
            name, kind, color = item
            out.append(Status(status=name, type=kind, color=color, orderindex=i))
    return out


def _priority(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in PRIORITIES:
        raise errors.bad_request("Priority invalid", "INPUT_003")
    return value


def _priority_obj(priority: int | None) -> dict[str, Any] | None:
    if priority is None:
        return None
    name, color = PRIORITIES[priority]
    return {"id": str(priority), "priority": name, "color": color, "orderindex": str(priority)}


def _ms_or_none(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.bad_request("Date invalid", "INPUT_004") from None


def _tag_names(tags: Any) -> list[str]:
    """Tag names as ClickUp stores them: lower-cased (observed and relied on by public integrations: "ClickUp
    lowercases tag names"; its reference does not say), each once."""
    return list(dict.fromkeys(str(t).lower() for t in tags or []))


def _str_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)


def _events(events: Any) -> list[str]:
    if events == "*" or events == ["*"]:
        return ["*"]
    if not isinstance(events, list) or not events or any(e not in ALL_EVENTS for e in events):
        raise errors.bad_request("Events invalid", "OAUTH_114")
    return list(events)


priority_object = _priority_obj


Change = tuple[str, str, Any, Any]  # a task update's (granular webhook event or "", history field, before, after)


def _update_priority_and_due_date(task: Task, body: dict[str, Any], changes: list[Change]) -> None:
    """`priority: null` / `due_date: null` clear the field: Create Task documents priority "int 1-4 or null"
    (FACTS.md, POST /list/{id}/task) and tasks render an unset one as null (GET /task/{id}); the Update Task schema
    types both as integers only (the README's differences table)."""
    if "priority" in body:
        priority = _priority(body["priority"])
        if priority != task.priority:
            changes.append(("taskPriorityUpdated", "priority", _priority_obj(task.priority), _priority_obj(priority)))
            task.priority = priority
    if "due_date" in body:
        due = _ms_or_none(body["due_date"])
        if due != task.due_date:
            changes.append(("taskDueDateUpdated", "due_date", _str_or_none(task.due_date), _str_or_none(due)))
            task.due_date = due
        if "due_date_time" in body:
            task.due_date_time = bool(body["due_date_time"])
