"""`ORG#{org}` / `SETTINGS`: the organisation's ClickUp module settings."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bridge.core.inputs import ClickUpId, is_token_text
from bridge.core.recent import Recent
from bridge.repositories.table import main_table, org_pk, plain

SK = "SETTINGS"


class OrgSettings(BaseModel):
    """Validated on every write; unknown fields are rejected. Later capabilities add their own fields."""

    model_config = ConfigDict(extra="forbid", strict=True)

    enabled: bool = Field(default=True, description="When false, every ClickUp route answers 409 module_disabled")
    return_to_allow_list: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Origins (scheme://host[:port]) the OAuth flow may send the browser back to",
    )

    time_zone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA zone date-only due dates are placed in (default: the connected ClickUp user's zone)",
    )
    space_default_lists: dict[ClickUpId, ClickUpId] = Field(
        default_factory=dict, description="space id → the list a customer assigned to that space gets tasks in"
    )
    status_mapping: dict[ClickUpId, dict[str, str]] = Field(
        default_factory=dict,
        description="list id → {portal status → ClickUp status of that list}; checked against the list's statuses",
    )
    field_mapping: dict[str, ClickUpId] = Field(
        default_factory=dict, description="portal field → ClickUp custom field id (values converted to its type)"
    )

    portal_webhook_url: str | None = Field(
        default=None,
        max_length=2048,
        description="Where portal events are pushed (https; signed with the secret from "
        "POST /api/v1/clickup/portal-webhook/secret). Without it, events are only in the pull feed",
    )

    @field_validator("portal_webhook_url")
    @classmethod
    def _push_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not is_token_text(value, max_chars=2048):  # controls, spaces or non-ASCII would fail in the push's request
            raise ValueError("the portal webhook URL must be visible ASCII (percent-encode the rest)")
        from urllib.parse import urlparse

        parsed = urlparse(value)
        loopback = parsed.hostname in ("127.0.0.1", "localhost", "::1")
        if parsed.scheme != "https" and not (parsed.scheme == "http" and loopback):
            raise ValueError("the portal webhook URL must be https (http only on loopback, for local stacks)")
        if not parsed.hostname:
            raise ValueError(f"{value!r} is not a URL")
        return value

    @field_validator("field_mapping", mode="before")
    @classmethod
    def _field_ids(cls, value: Any) -> Any:
        # An empty name or field id maps nothing: every ticket using it would be accepted and its field never set.
        # Checked before the ids' own type (a ClickUp id), so an empty one gets its own code.
        from pydantic_core import PydanticCustomError

        if not isinstance(value, dict):
            return value  # the type check names it
        for portal_field, field_id in value.items():
            if not isinstance(portal_field, str) or not isinstance(field_id, str):
                return value
            if not portal_field.strip() or not field_id.strip():
                raise PydanticCustomError("field_mapping_empty", "portal fields and ClickUp field ids are not empty")
        return {k.strip(): v.strip() for k, v in value.items()}

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"{value!r} is not an IANA time zone like Europe/Paris") from exc
        return value

    @field_validator("return_to_allow_list")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        from bridge.oauth.return_to import origin_of

        out = []
        for value in values:
            origin = origin_of(value)
            if origin is None or origin != value.rstrip("/"):
                raise ValueError(f"{value!r} is not an origin like https://portal.example.com")
            out.append(origin)
        return out


RECENT_MAX_AGE_S = 3.0
_recent: Recent[OrgSettings] = Recent(RECENT_MAX_AGE_S)


def get(org_id: str) -> OrgSettings:
    item = main_table().get_item(Key={"pk": org_pk(org_id), "sk": SK}).get("Item")
    if not item:
        return OrgSettings()
    data: dict[str, Any] = plain(item)
    return OrgSettings.model_validate({k: v for k, v in data.items() if k in OrgSettings.model_fields})


def recent(org_id: str) -> OrgSettings:
    """The settings as read at most RECENT_MAX_AGE_S ago (the portal's hot paths, where work accepted
    is checked again by the worker that does it)."""
    return _recent.get(org_id, lambda: get(org_id))


def put(org_id: str, value: OrgSettings) -> OrgSettings:
    main_table().put_item(Item={"pk": org_pk(org_id), "sk": SK, **value.model_dump()})
    _recent.forget(org_id)
    return value
