"""Messages on the bridge's queues. A body that does not parse is a poison message: it fails, is retried
maxReceiveCount times and ends in the DLQ (with an alarm), so nothing accepted is silently dropped."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

# Every message model and adapter is built when first used (issue 18: a function that never reads a kind of
# message does not build its validator at a cold start).
_DEFERRED = ConfigDict(defer_build=True)


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# A tick's identity: the time EventBridge Scheduler scheduled it for (`<aws.scheduler.scheduled-time>`, replaced by
# Scheduler in the target's input: Scheduler User Guide, "Adding context attributes"), e.g. 2026-12-01T00:15:00Z.
Tick = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")]


class SyncTick(_Message):
    """The space-sync schedule's tick, or one of its continuation pages (`after`: the last organisation of the
    previous page). Without `tick` the message's SentTimestamp names the tick (see `bridge.queueing.fanout`)."""

    kind: Literal["tick"]
    tick: Tick | None = None
    after: str | None = None


class SyncCheck(_Message):
    """A tick's job for one organisation: queue a full sync if its hierarchy is stale (once per tick)."""

    kind: Literal["check"]
    org_id: str = Field(min_length=1)
    tick: Tick


class SyncRequest(_Message):
    kind: Literal["sync"]
    org_id: str = Field(min_length=1)
    reason: str = "on_demand"


class SyncRefresh(_Message):
    """A targeted refresh after a space*/folder*/list* webhook: re-read one space (2 requests)."""

    kind: Literal["refresh"]
    org_id: str = Field(min_length=1)
    workspace_id: str = Field(min_length=1)
    space_id: str | None = None
    list_id: str | None = None
    folder_id: str | None = None
    deleted: bool = False


class TaskCreate(_Message):
    """Create the ClickUp task of a ticket (then apply the changes accepted meanwhile)."""

    kind: Literal["create"]
    org_id: str = Field(min_length=1)
    ticket_id: str = Field(min_length=1)
    generation: int = 1  # bumped by a retry of a failed creation


class TaskApply(_Message):
    """Apply a ticket's accepted changes (status, priority, due date, assignees, comments) in order."""

    kind: Literal["apply"]
    org_id: str = Field(min_length=1)
    ticket_id: str = Field(min_length=1)
    seq: int = 0


TaskMessage = Annotated[TaskCreate | TaskApply, Field(discriminator="kind")]
task_message_adapter: TypeAdapter[TaskCreate | TaskApply] = TypeAdapter(TaskMessage, config=_DEFERRED)

SyncMessage = Annotated[SyncTick | SyncCheck | SyncRequest | SyncRefresh, Field(discriminator="kind")]
sync_message_adapter: TypeAdapter[SyncTick | SyncCheck | SyncRequest | SyncRefresh] = TypeAdapter(
    SyncMessage, config=_DEFERRED
)


class WebhookDelivery(_Message):
    """A verified ClickUp delivery, as received (the payload is ClickUp's, hence open)."""

    kind: Literal["delivery"]
    org_id: str = Field(min_length=1)
    workspace_id: str = Field(min_length=1)
    webhook_id: str = Field(min_length=1)
    received_ms: int
    payload: dict[str, Any]


webhook_message_adapter: TypeAdapter[WebhookDelivery] = TypeAdapter(WebhookDelivery)


class MaintenanceTick(_Message):
    """A schedule's tick, or one of its continuation pages: fan the job out to every organisation of the index."""

    kind: Literal["sweep_tick", "health_tick"]
    tick: Tick | None = None
    after: str | None = None


class MaintenanceJob(_Message):
    """One organisation's sweep or health check: `tick` set when a tick queued it (it runs once per tick), unset
    for a sweep's continuation."""

    kind: Literal["sweep", "health"]
    org_id: str = Field(min_length=1)
    tick: Tick | None = None


MaintenanceMessage = Annotated[MaintenanceTick | MaintenanceJob, Field(discriminator="kind")]
maintenance_message_adapter: TypeAdapter[MaintenanceTick | MaintenanceJob] = TypeAdapter(
    MaintenanceMessage, config=_DEFERRED
)
