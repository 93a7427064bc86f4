"""`ORG#{org}` / `SETTINGS`: the organisation's ClickUp module settings."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from bridge.core.errors import Conflict
from bridge.core.inputs import ClickUpId, is_token_text
from bridge.core.recent import Recent
from bridge.repositories.table import main_table, org_pk, plain

SK = "SETTINGS"

# A portal field or status name, a ClickUp status name: 1 to 128 characters, no control characters, not starting or
# ending with white space (an empty name is not one DynamoDB can even store as a map key: "Empty attribute name").
Label = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f\s](?:[^\x00-\x1f\x7f]*[^\x00-\x1f\x7f\s])?$"
    ),
]


class OrgSettings(BaseModel):
    """Validated on every write; unknown fields are rejected. Later capabilities add their own fields."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

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
    status_mapping: dict[ClickUpId, dict[Label, Label]] = Field(
        default_factory=dict,
        description="list id → {portal status → ClickUp status of that list}; checked against the list's statuses",
    )
    field_mapping: dict[Label, ClickUpId] = Field(
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

        try:
            parsed = urlparse(value)
            parsed.port  # noqa: B018 (raises on a port that is not a number)
        except ValueError:
            raise ValueError(f"{value!r} is not a URL") from None
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise ValueError("the portal webhook URL must be an https URL")
        # Where it may lead (https, public addresses; loopback for the local stack alone) is the address policy's
        # to say, on save and at every send: bridge.events.destination (a 422 portal_webhook_url_not_allowed).
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
        return value  # kept as sent: padding is refused by the names' and ids' own types, never trimmed away

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
        from bridge.core.return_to import origin_of

        out = []
        for value in values:
            origin = origin_of(value)
            if origin is None or origin != value.rstrip("/"):
                raise ValueError(f"{value!r} is not an origin like https://portal.example.com")
            out.append(origin)
        return out


RECENT_MAX_AGE_S = 3.0
_recent: Recent[OrgSettings] = Recent(RECENT_MAX_AGE_S)


class StoredSettingsInvalid(Conflict):
    """The stored settings row no longer validates (written before a rule existed, or by hand): the settings route
    reports it (409 `stored_settings_invalid`, the fields in `details`) until an admin PUTs valid settings."""

    code = "stored_settings_invalid"


def read(org_id: str) -> tuple[OrgSettings, list[str]]:
    """The stored settings and the fields of the row that do not validate (empty when it is valid). Each invalid
    field takes its default, so one bad value never blocks the routes that need another (a 500 on every route of
    the organisation was the failure). Never raises on the row's content."""
    item = main_table().get_item(Key={"pk": org_pk(org_id), "sk": SK}).get("Item")
    if not item:
        return OrgSettings(), []
    data: dict[str, Any] = {k: v for k, v in plain(item).items() if k in OrgSettings.model_fields}
    try:
        return OrgSettings.model_validate(data), []
    except ValidationError:
        pass
    good: dict[str, Any] = {}
    bad: list[str] = []
    for name, value in data.items():
        try:
            OrgSettings.model_validate({name: value})
        except ValidationError:
            bad.append(name)
        else:
            good[name] = value
    from bridge.core.observability import logger

    logger.warning("stored settings do not validate", extra={"org_id": org_id, "fields": sorted(bad)})
    return OrgSettings.model_validate(good), sorted(bad)


def get(org_id: str) -> OrgSettings:
    """The settings every route works with: fields of the stored row that no longer validate take their default
    (see `read`)."""
    return read(org_id)[0]


def get_checked(org_id: str) -> OrgSettings:
    """The stored settings, or StoredSettingsInvalid (409) naming the fields that do not validate."""
    value, bad = read(org_id)
    if bad:
        raise StoredSettingsInvalid(
            "the stored settings do not validate; an admin PUT of valid settings replaces them",
            details={"fields": bad},
        )
    return value


def recent(org_id: str) -> OrgSettings:
    """The settings as read at most RECENT_MAX_AGE_S ago (the portal's hot paths, where work accepted
    is checked again by the worker that does it)."""
    return _recent.get(org_id, lambda: get(org_id))


def put(org_id: str, value: OrgSettings) -> OrgSettings:
    main_table().put_item(Item={"pk": org_pk(org_id), "sk": SK, **value.model_dump()})
    _recent.forget(org_id)
    return value
