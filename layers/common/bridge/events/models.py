"""Portal events: one documented shape per event type, whatever found the change (a ClickUp webhook, the
reconciliation sweep, a thin payload read back, the task worker, the connection flows).

Every event is `{"id", "type", "org_id", "ticket_id"?, "task_id"?, "data", "occurred_at"}`; `data` is the model
`DATA_MODELS[type]`. Producers build the model (`bridge.events.publisher.publish` takes it), so an event cannot
leave with another shape, and the OpenAPI document carries each as a schema (`bridge.events.feed`: one envelope
per type and `PortalEvent`, their union discriminated on `type`) the portal can generate a client from.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class EventData(BaseModel):
    """The `data` of a portal event. Unknown fields are refused: a type has one shape."""

    # Built on first use, not at import: a cold start pays only for the types it publishes (building all of them
    # at import was measured at ~95 ms)
    model_config = ConfigDict(extra="forbid", defer_build=True)


# -- ClickUp task changes (webhook processing and the sweep) -------------------------------------------------
class TaskChange(EventData):
    """What every ClickUp-side change of a linked task carries."""

    changed_at: str | None = Field(
        description="When ClickUp dated the change (UTC, ISO 8601): the history item's date, or for a change found by "
        "the sweep (or a task read back) the task's date_updated; null when ClickUp gives none (a deletion)"
    )
    by: str = Field(
        description="clickup:user:{ClickUp user id}, or clickup when ClickUp names nobody (sweep, read back)"
    )
    current: bool = Field(
        description="false: an older change that arrived after a newer one (the link kept the newer value)"
    )


class StatusChanged(TaskChange):
    status: str = Field(description="The ClickUp status, in the list's own spelling")
    previous: str | None = Field(
        description="The status before: ClickUp's `before` when its webhook gives it, else the status the bridge "
        "held for the task (the sweep); null when unknown"
    )


class PriorityChanged(TaskChange):
    priority: Literal["urgent", "high", "normal", "low"] | None = Field(description="null: no priority")
    previous: Literal["urgent", "high", "normal", "low"] | None = Field(
        description="The priority the bridge held before (null: none)"
    )


class DueDateChanged(TaskChange):
    due_date: str | None = Field(
        description="YYYY-MM-DD (a date-only due date, the day in the workspace's zone) or an instant in UTC; "
        "null: no due date"
    )
    previous: str | None = Field(description="The due date the bridge held before (null: none)")


class AssigneesChanged(TaskChange):
    assignees: list[int] = Field(description="The task's assignees after the change (ClickUp user ids)")
    added: list[int] = Field(description="User ids this change assigned")
    removed: list[int] = Field(description="User ids this change unassigned")
    previous: list[int] = Field(description="The assignees the bridge held before")


class Moved(TaskChange):
    list_id: str | None = Field(description="The task's list after the move")
    previous: str | None = Field(description="The list the bridge held before")


class CommentAdded(TaskChange):
    comment_id: str
    text: str = Field(description="The comment's plain text as ClickUp renders it")


class CommentUpdated(TaskChange):
    comment_id: str = Field(description="The id of the comment reported by clickup.task.comment_added")
    text: str = Field(description="The comment's new plain text")
    task_id: str | None = Field(default=None, description="The task the comment is on (also the event's task_id)")


class CommentDeleted(TaskChange):
    comment_id: str = Field(description="The id of the comment reported by clickup.task.comment_added")
    task_id: str | None = Field(default=None, description="The task the comment was on (also the event's task_id)")


class TaskDeleted(TaskChange):
    """The task was deleted at ClickUp; the link's state is `deleted`."""


# -- the task pipeline (task worker) ---------------------------------------------------------------------------
class TaskCreated(EventData):
    task_id: str
    task_url: str | None
    list_id: str | None
    adopted: bool = Field(description="true: a task an earlier attempt had created was found and adopted")


class TaskLinked(EventData):
    """A portal user linked the ticket to a ClickUp task that already existed (`PUT …/clickup-task/link`); from
    then on the task's changes are the ticket's, as for a created one."""

    task_id: str
    task_url: str | None
    list_id: str | None
    workspace_id: str | None = Field(description="The authorized workspace the task is in")
    status: str | None = Field(description="The task's ClickUp status when it was linked")
    by: str = Field(description="user:{portal user id}: who linked it (the JWT's sub)")


class TaskUnlinked(EventData):
    """A portal user unlinked the ticket from its task (`DELETE …/clickup-task`): the task stays in ClickUp, and
    its changes no longer reach the ticket or the feed."""

    task_id: str | None = Field(description="The task the ticket was linked to (null: a creation that had failed)")
    state: Literal["created", "failed", "deleted"] = Field(description="The link's state when it was removed")
    by: str = Field(description="user:{portal user id}: who unlinked it (the JWT's sub)")


class TaskFailed(EventData):
    code: str = Field(description="no_list_for_customer, list_not_found, or ClickUp's ECODE (e.g. INPUT_005)")
    message: str


class ChangeFailed(EventData):
    code: str = Field(
        description="task_not_found, status_not_mapped, assignee_not_applied, or ClickUp's ECODE / clickup_<status>"
    )
    message: str
    change: dict[str, Any] = Field(
        description="The accepted change that was not made: a comment {kind: comment, text} or an update "
        "{kind: update, status?, priority?, due_date?, assignees?} (for assignee_not_applied: the users left out)"
    )


class FieldsFailed(EventData):
    problems: list[str] = Field(description="One line per portal field that could not be set on the task")


# -- connection and assignments ------------------------------------------------------------------------------
class ConnectionConnected(EventData):
    mode: Literal["oauth", "personal_token"]
    workspaces: list[str] = Field(description="The authorized workspace ids")


class ConnectionNeedsReauth(EventData):
    detected_in: str = Field(description="What found the token revoked (e.g. task pipeline, connection test)")


class WebhookOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    workspace_id: str
    webhook_id: str | None
    outcome: str


class ConnectionDisconnected(EventData):
    webhooks: list[WebhookOutcome] = Field(description="What happened to each of our webhooks at ClickUp")
    purged: bool = Field(description="true: the ticket links were deleted too")


class AssignmentBroken(EventData):
    customer_id: str
    space_id: str | None
    list_id: str | None
    reason: Literal["space_deleted", "list_deleted"]


DATA_MODELS: dict[str, type[EventData]] = {
    "clickup.task.created": TaskCreated,
    "clickup.task.failed": TaskFailed,
    "clickup.task.linked": TaskLinked,
    "clickup.task.unlinked": TaskUnlinked,
    "clickup.task.change_failed": ChangeFailed,
    "clickup.task.fields_failed": FieldsFailed,
    "clickup.task.status_changed": StatusChanged,
    "clickup.task.priority_changed": PriorityChanged,
    "clickup.task.due_date_changed": DueDateChanged,
    "clickup.task.assignees_changed": AssigneesChanged,
    "clickup.task.moved": Moved,
    "clickup.task.comment_added": CommentAdded,
    "clickup.task.comment_updated": CommentUpdated,
    "clickup.task.comment_deleted": CommentDeleted,
    "clickup.task.deleted": TaskDeleted,
    "clickup.connection.connected": ConnectionConnected,
    "clickup.connection.needs_reauth": ConnectionNeedsReauth,
    "clickup.connection.disconnected": ConnectionDisconnected,
    "clickup.assignment.broken": AssignmentBroken,
}
TYPE_OF: dict[type[EventData], str] = {model: name for name, model in DATA_MODELS.items()}
