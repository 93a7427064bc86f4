"""Bodies of the connection routes (the contract the portal codes against)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from bridge.core.inputs import ClickUpId


class ConnectOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    authorize_url: str = Field(description="Send the admin's browser here (ClickUp's consent page)")
    expires_at: str = Field(description="The flow's state expires then (10 minutes)")


class ConnectedUser(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    username: str | None = None
    email: str | None = None


class WorkspaceOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    name: str
    authorized: bool


class WebhookHealthOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    workspace_id: str
    health: str


class ConnectionOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    status: Literal["connected", "needs_reauth", "disconnected", "not_connected"]
    mode: Literal["oauth", "personal_token"] | None = None
    user: ConnectedUser | None = None
    workspaces: list[WorkspaceOut] = Field(default_factory=list)
    default_workspace_id: str | None = None
    connected_at: str | None = None
    last_sync_at: str | None = None
    webhooks: list[WebhookHealthOut] = Field(default_factory=list)


class DefaultWorkspaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)
    workspace_id: ClickUpId


class PersonalTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)
    token: SecretStr = Field(description="A ClickUp personal API token (pk_...)")


class TestOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    # unreachable: no answer, a timeout or a 5xx (try later); refused: another 4xx from ClickUp (detail says which)
    result: Literal["ok", "revoked", "unreachable", "refused"]
    detail: str
    latency_ms: float | None = None


class DisconnectOutcome(BaseModel):
    model_config = ConfigDict(defer_build=True)

    workspace_id: str
    webhook_id: str | None = None
    outcome: str


class PortalWebhookSecretOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    secret: str = Field(
        description="Shown once: verify X-Bridge-Signature (t=<unix>,v1=<hex HMAC-SHA256 of '<t>.<body>'>) with it"
    )
    header: str = "X-Bridge-Signature"
