"""Environment of a function, modelled and validated with pydantic's validation engine once per container (at cold
start).

`Settings` is validated by a `pydantic_core.SchemaValidator` built from the dataclass's own fields (their types,
environment names and constraints), not by a `pydantic.BaseModel`: a model class pulls pydantic's schema-building
machinery and its plugin loader (`importlib.metadata`) into every cold start, about a third of the ingestion
function's import (issue 18), where the validator alone costs `pydantic_core`. The rules are pydantic's own, in
lax mode, as the `BaseModel` applied them: strings coerced from the environment's text (`"5"` → 5, `"true"` →
True), the same constraints, unknown variables ignored, and a `pydantic.ValidationError` (which is
`pydantic_core.ValidationError`) naming each variable by its environment name.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from pydantic_core import SchemaValidator, ValidationError, core_schema

_MISSING: Any = dataclasses.MISSING


def env(name: str, default: Any = _MISSING, **constraints: Any) -> Any:
    """A field read from the environment variable `name`, with pydantic-core constraints (`min_length`, `ge`,
    `le`, `gt`…, as `pydantic.Field` spells them) and an optional default."""
    return dataclasses.field(default=default, metadata={"env": name, "constraints": constraints})


@dataclasses.dataclass(frozen=True)
class Settings:
    """The function's environment (immutable). `Settings.model_validate(mapping)` validates any mapping (e.g.
    `os.environ`), by environment name or field name; raises `pydantic.ValidationError`."""

    stage: str = env("STAGE", min_length=1)
    table_name: str = env("TABLE_NAME", min_length=3)
    event_bus_name: str = env("EVENT_BUS_NAME", min_length=1)
    tokens_key_id: str = env("TOKENS_KEY_ID", min_length=1)
    sync_queue_url: str = env("SYNC_QUEUE_URL", min_length=1)
    task_queue_url: str = env("TASK_QUEUE_URL", min_length=1)
    webhook_queue_url: str = env("WEBHOOK_QUEUE_URL", min_length=1)
    maintenance_queue_url: str = env("MAINTENANCE_QUEUE_URL", min_length=1)
    version: str = env("BRIDGE_VERSION", "0.1.0")
    clickup_api_base_url: str = env("CLICKUP_API_BASE_URL", "https://api.clickup.com/api/v2")
    clickup_app_base_url: str = env("CLICKUP_APP_BASE_URL", "https://app.clickup.com")
    clickup_client_id: str = env("CLICKUP_CLIENT_ID", "")
    clickup_client_secret_name: str = env("CLICKUP_CLIENT_SECRET_NAME", "")
    # Where ClickUp and browsers reach this API (webhook endpoint, OAuth redirect URI).
    public_base_url: str = env("PUBLIC_BASE_URL", "https://bridge.invalid")
    # The portal's own origin: always allowed as an OAuth return_to.
    portal_origin: str = env("PORTAL_ORIGIN", "https://portal.invalid")
    # Organisations one invocation of a schedule's tick fans out before continuing in a new message
    # (bridge.queueing.fanout): 1,000 take ~100 SendMessageBatch calls, a few seconds.
    tick_page_size: int = env("TICK_PAGE_SIZE", 1000, ge=1, le=10_000)
    # Portal webhook URLs may lead to loopback (http or https, any port): set by the local stack alone, whose
    # stand-in portal listens there; deployed stages push to public https addresses only (bridge.events.destination).
    portal_webhook_allow_loopback: bool = env("PORTAL_WEBHOOK_ALLOW_LOOPBACK", False)
    # Multiplies every outage back-off delay (bridge/queueing/outage.py): 1 on AWS; the local stack's tests shrink
    # time with it, as they shrink visibility timeouts and schedule rates.
    retry_time_scale: float = env("RETRY_TIME_SCALE", 1.0, gt=0, le=1)

    # `GET /docs` (the API documentation page, bridge.api.docs): on by default; a deployment input may switch it off
    # (e.g. in production).
    api_docs_enabled: bool = env("API_DOCS_ENABLED", True)

    @property
    def oauth_redirect_uri(self) -> str:
        return f"{self.public_base_url.rstrip('/')}/clickup/oauth/callback"

    @property
    def webhook_endpoint(self) -> str:
        return f"{self.public_base_url.rstrip('/')}/webhooks/clickup"

    @classmethod
    def model_validate(cls, data: Mapping[str, Any]) -> Settings:
        """Validate `data` (environment names or field names; anything else ignored). Raises
        `pydantic.ValidationError` with each error's `loc` the environment name."""
        return cls(**_validator().validate_python(dict(data)))


# The annotation of each field (a string under `from __future__ import annotations`) -> pydantic-core's schema of
# that type, as pydantic builds it for a model field of the type (lax mode).
_SCHEMAS: dict[str, Callable[..., core_schema.CoreSchema]] = {
    "str": core_schema.str_schema,
    "int": core_schema.int_schema,
    "float": core_schema.float_schema,
    "bool": core_schema.bool_schema,
}


@cache
def _validator() -> SchemaValidator:
    """The SchemaValidator of `Settings`: a typed dict keyed by field name, each field read by its environment
    name (or its own name: `populate_by_name`), defaults applied, unknown keys ignored."""
    fields: dict[str, core_schema.TypedDictField] = {}
    for field in dataclasses.fields(Settings):
        schema: core_schema.CoreSchema = _SCHEMAS[str(field.type)](**field.metadata["constraints"])
        if field.default is not dataclasses.MISSING:
            schema = core_schema.with_default_schema(schema, default=field.default)
        fields[field.name] = core_schema.typed_dict_field(
            schema, required=field.default is dataclasses.MISSING, validation_alias=field.metadata["env"]
        )
    # The typed dict's own config (not only the validator's) decides whether fields are also read by name.
    config = core_schema.CoreConfig(title="Settings", extra_fields_behavior="ignore", validate_by_name=True)
    return SchemaValidator(core_schema.typed_dict_schema(fields, extra_behavior="ignore", config=config), config)


class ConfigurationError(RuntimeError):
    """The function was deployed with a missing or malformed environment."""


@cache
def settings() -> Settings:
    try:
        return Settings.model_validate(os.environ)
    except ValidationError as exc:
        # Names only: values may be sensitive and do not help the operator here.
        missing = ", ".join(str(err["loc"][0]) for err in exc.errors())
        raise ConfigurationError(f"invalid function environment: {missing}") from None
