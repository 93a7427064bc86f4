"""Environment of a function, modelled with pydantic and validated once per container (at cold start)."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    stage: str = Field(alias="STAGE", min_length=1)
    table_name: str = Field(alias="TABLE_NAME", min_length=3)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    tokens_key_id: str = Field(alias="TOKENS_KEY_ID", min_length=1)
    sync_queue_url: str = Field(alias="SYNC_QUEUE_URL", min_length=1)
    task_queue_url: str = Field(alias="TASK_QUEUE_URL", min_length=1)
    webhook_queue_url: str = Field(alias="WEBHOOK_QUEUE_URL", min_length=1)
    maintenance_queue_url: str = Field(alias="MAINTENANCE_QUEUE_URL", min_length=1)
    version: str = Field(alias="BRIDGE_VERSION", default="0.1.0")
    clickup_api_base_url: str = Field(alias="CLICKUP_API_BASE_URL", default="https://api.clickup.com/api/v2")
    clickup_app_base_url: str = Field(alias="CLICKUP_APP_BASE_URL", default="https://app.clickup.com")
    clickup_client_id: str = Field(alias="CLICKUP_CLIENT_ID", default="")
    clickup_client_secret_name: str = Field(alias="CLICKUP_CLIENT_SECRET_NAME", default="")
    # Where ClickUp and browsers reach this API (webhook endpoint, OAuth redirect URI).
    public_base_url: str = Field(alias="PUBLIC_BASE_URL", default="https://bridge.invalid")
    # The portal's own origin: always allowed as an OAuth return_to.
    portal_origin: str = Field(alias="PORTAL_ORIGIN", default="https://portal.invalid")
    # Organisations one invocation of a schedule's tick fans out before continuing in a new message
    # (bridge.queueing.fanout): 1,000 take ~100 SendMessageBatch calls, a few seconds.
    tick_page_size: int = Field(alias="TICK_PAGE_SIZE", default=1000, ge=1, le=10_000)
    # Portal webhook URLs may lead to loopback (http or https, any port): set by the local stack alone, whose
    # stand-in portal listens there; deployed stages push to public https addresses only (bridge.events.destination).
    portal_webhook_allow_loopback: bool = Field(alias="PORTAL_WEBHOOK_ALLOW_LOOPBACK", default=False)
    # Multiplies every outage back-off delay (bridge/queueing/outage.py): 1 on AWS; the local stack's tests shrink
    # time with it, as they shrink visibility timeouts and schedule rates.
    retry_time_scale: float = Field(alias="RETRY_TIME_SCALE", default=1.0, gt=0, le=1)

    # `GET /docs` (the API documentation page, bridge.api.docs): on by default; a deployment input may switch it off
    # (e.g. in production).
    api_docs_enabled: bool = Field(alias="API_DOCS_ENABLED", default=True)

    @property
    def oauth_redirect_uri(self) -> str:
        return f"{self.public_base_url.rstrip('/')}/clickup/oauth/callback"

    @property
    def webhook_endpoint(self) -> str:
        return f"{self.public_base_url.rstrip('/')}/webhooks/clickup"


class ConfigurationError(RuntimeError):
    """The function was deployed with a missing or malformed environment."""


@cache
def settings() -> Settings:
    try:
        return Settings.model_validate(dict(os.environ))
    except ValidationError as exc:
        # Names only: values may be sensitive and do not help the operator here.
        missing = ", ".join(str(err["loc"][0]) for err in exc.errors())
        raise ConfigurationError(f"invalid function environment: {missing}") from None
