"""Typed views of the ClickUp responses the bridge uses (ids as strings, dates as ms ints)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    # Built at the first validation, not at import: a function loads ClickUp's models only when it calls ClickUp
    # (cold starts, issue 18).
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, frozen=True, defer_build=True)


class User(_Model):
    """ClickUp's User (`GET /user`; the members of `GET /team` carry the same fields plus `role`: 1 owner, 2 admin,
    3 member, 4 guest, per ClickUp's TeamMember schema)."""

    id: str
    username: str | None = None
    email: str | None = None
    timezone: str | None = None
    initials: str | None = None
    role: int | None = None


ROLE_NAMES = {1: "owner", 2: "admin", 3: "member", 4: "guest"}


class Member(_Model):
    user: User


class Team(_Model):
    """A workspace of `GET /team` with its members (`members: [{"user": {...}}]`; api-samples/get-team.response.json)"""

    id: str
    name: str
    members: list[Member] = Field(default_factory=list)

    @property
    def member_ids(self) -> list[int]:
        return sorted({int(m.user.id) for m in self.members if m.user.id.isdigit()})

    @property
    def member_rows(self) -> list[dict[str, Any]]:
        """The members as the bridge stores them: `[{"id": int, "username", "email", "initials", "role"}]`, `role`
        named (owner | admin | member | guest, None when ClickUp sends no known code), sorted by id."""
        rows = {
            int(m.user.id): {
                "id": int(m.user.id),
                "username": m.user.username,
                "email": m.user.email,
                "initials": m.user.initials,
                "role": ROLE_NAMES.get(m.user.role) if m.user.role is not None else None,
            }
            for m in self.members
            if m.user.id.isdigit()
        }
        return [rows[k] for k in sorted(rows)]


class Status(_Model):
    status: str
    type: str | None = None
    orderindex: int | None = None
    color: str | None = None


class Ref(_Model):
    id: str
    name: str | None = None
    hidden: bool | None = None


class ListItem(_Model):
    id: str
    name: str
    archived: bool = False
    statuses: list[Status] = Field(default_factory=list)
    folder: Ref | None = None
    space: Ref | None = None


class Folder(_Model):
    id: str
    name: str
    hidden: bool = False
    archived: bool = False
    lists: list[ListItem] = Field(default_factory=list)


class Space(_Model):
    id: str
    name: str
    archived: bool = False
    statuses: list[Status] = Field(default_factory=list)


class Priority(_Model):
    id: str | None = None
    priority: str | None = None


class Assignee(_Model):
    id: str
    username: str | None = None
    email: str | None = None


class CustomFieldValue(_Model):
    id: str
    name: str | None = None
    type: str | None = None
    value: Any = None


class Task(_Model):
    id: str
    custom_id: str | None = None
    name: str
    status: Status
    date_created: int | None = None
    date_updated: int | None = None
    date_closed: int | None = None
    priority: Priority | None = None
    due_date: int | None = None
    assignees: list[Assignee] = Field(default_factory=list)
    tags: list[dict[str, Any]] = Field(default_factory=list)
    parent: str | None = None
    url: str | None = None
    team_id: str | None = None
    home_list: Ref | None = Field(default=None, validation_alias="list")  # "list" would shadow the builtin
    archived: bool = False
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)

    @property
    def list_id(self) -> str | None:
        return self.home_list.id if self.home_list else None

    @property
    def priority_number(self) -> int | None:
        return int(self.priority.id) if self.priority and self.priority.id else None


class DropDownOption(_Model):
    id: str
    name: str
    orderindex: int | None = None


class CustomField(_Model):
    id: str
    name: str
    type: str
    type_config: dict[str, Any] = Field(default_factory=dict)

    @property
    def options(self) -> list[DropDownOption]:
        return [DropDownOption.model_validate(o) for o in self.type_config.get("options") or []]


class WebhookHealth(_Model):
    status: str = "active"
    fail_count: int = 0


class Webhook(_Model):
    id: str
    team_id: str | None = None
    endpoint: str
    events: list[str] = Field(default_factory=list)
    health: WebhookHealth = Field(default_factory=WebhookHealth)
    secret: str | None = Field(default=None, repr=False)
    space_id: str | None = None
    folder_id: str | None = None
    list_id: str | None = None
    task_id: str | None = None


class TaskPage(_Model):
    tasks: list[Task]
    last_page: bool | None = None
