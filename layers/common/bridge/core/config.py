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
    version: str = Field(alias="BRIDGE_VERSION", default="0.1.0")


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
