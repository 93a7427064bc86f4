"""Bodies of the ticket → task routes (the contract the portal codes against)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bridge.core.inputs import ClickUpUserId, PortalId
from bridge.tasks.render import validate_due_date

Priority = Literal["urgent", "high", "normal", "low"]


class Requester(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")


class _DueDate(BaseModel):
    @field_validator("due_date", check_fields=False)
    @classmethod
    def _due(cls, value: str | None) -> str | None:
        return validate_due_date(value) if value else value


class TicketIn(_DueDate):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=900)
    description: str | None = Field(default=None, max_length=50_000)
    priority: Priority
    customer_id: PortalId
    ticket_url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://")
    requester: Requester | None = None
    due_date: str | None = Field(
        default=None, description="YYYY-MM-DD (that day in the workspace's zone) or an ISO date-time with offset"
    )
    tags: list[str] = Field(default_factory=list, max_length=20)
    fields: dict[str, Any] = Field(default_factory=dict, description="portal field → value (see field_mapping)")


class ChangeIn(_DueDate):
    model_config = ConfigDict(extra="forbid")
    status: str | None = Field(default=None, min_length=1, max_length=100, description="a portal status (mapped)")
    priority: Priority | None = None
    due_date: str | None = Field(default=None, description="as on creation; null clears it")
    assignees: list[ClickUpUserId] | None = Field(
        default=None, max_length=50, description="ClickUp user ids: the full set"
    )


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=20_000)


class LinkError(BaseModel):
    code: str
    message: str


class TaskLinkOut(BaseModel):
    state: Literal["queued", "creating", "created", "failed", "deleted"]
    ticket_id: str
    task_id: str | None = None
    task_url: str | None = None
    list_id: str | None = None
    status: str | None = None
    priority: Priority | None = None
    assignees: list[int] = Field(default_factory=list)
    due_date: str | None = None
    updated_at: str | None = None
    error: LinkError | None = None
    pending_changes: int = Field(default=0, description="accepted changes not yet applied in ClickUp")


class HistoryEntry(BaseModel):
    at: str = Field(description="When the bridge recorded the change (UTC)")
    actor: str = Field(description="user:{portal user}, worker, clickup:user:{ClickUp user id} or clickup")
    action: str
    before: dict[str, Any]
    after: dict[str, Any]


class HistoryOut(BaseModel):
    ticket_id: str
    entries: list[HistoryEntry]
