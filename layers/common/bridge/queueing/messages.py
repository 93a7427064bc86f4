"""Messages on the bridge's queues. A body that does not parse is a poison message: it fails, is retried
maxReceiveCount times and ends in the DLQ (with an alarm), so nothing accepted is silently dropped."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SyncTick(_Message):
    """The space-sync-tick schedule's message. `scheduled_at` is the tick's scheduled time (UTC, e.g.
    2026-12-01T00:15:00Z), which EventBridge Scheduler writes into the body (`<aws.scheduler.scheduled-time>`):
    it makes each tick's body unique, so the FIFO queue's content-based deduplication drops only a retried
    delivery of the same tick."""

    kind: Literal["tick"]
    scheduled_at: AwareDatetime | None = None


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
task_message_adapter: TypeAdapter[TaskCreate | TaskApply] = TypeAdapter(TaskMessage)

SyncMessage = Annotated[SyncTick | SyncRequest | SyncRefresh, Field(discriminator="kind")]
sync_message_adapter: TypeAdapter[SyncTick | SyncRequest | SyncRefresh] = TypeAdapter(SyncMessage)


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
    """A schedule's tick: fan the job out to every connected organisation. `scheduled_at`: as on `SyncTick`."""

    kind: Literal["sweep_tick", "health_tick"]
    scheduled_at: AwareDatetime | None = None


class MaintenanceJob(_Message):
    kind: Literal["sweep", "health"]
    org_id: str = Field(min_length=1)


MaintenanceMessage = Annotated[MaintenanceTick | MaintenanceJob, Field(discriminator="kind")]
maintenance_message_adapter: TypeAdapter[MaintenanceTick | MaintenanceJob] = TypeAdapter(MaintenanceMessage)
