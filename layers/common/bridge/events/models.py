"""The portal's event feed (the pull side of portal events; the same events are pushed to its webhook)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class PortalEvent(BaseModel):
    id: str = Field(description="Stable per change: deduplicate on it")
    type: str = Field(description="e.g. clickup.task.status_changed, clickup.task.comment_added")
    org_id: str
    ticket_id: str | None = None
    task_id: str | None = None
    data: dict[str, Any]
    occurred_at: str


class EventsOut(BaseModel):
    events: list[PortalEvent]
    cursor: str | None = Field(description="Pass as `after` to read the events recorded since; null: none yet")
