"""Messages on the bridge's queues. A body that does not parse is a poison message: it fails, is retried
maxReceiveCount times and ends in the DLQ (with an alarm), so nothing accepted is silently dropped."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SyncTick(_Message):
    kind: Literal["tick"]


class SyncRequest(_Message):
    kind: Literal["sync"]
    org_id: str = Field(min_length=1)
    reason: str = "on_demand"


SyncMessage = Annotated[SyncTick | SyncRequest, Field(discriminator="kind")]
sync_message_adapter: TypeAdapter[SyncTick | SyncRequest] = TypeAdapter(SyncMessage)
