"""The portal event envelopes, one per type (`{"id", "type", "org_id", "ticket_id"?, "task_id"?, "data",
"occurred_at"}` with `data` the type's model from bridge.events.models), their union `PortalEvent` discriminated on
`type`, and the feed route's answer. Apart from the data models so that the functions that only publish do not
build them at a cold start (the api function, which serves the feed, does)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from bridge.events.models import DATA_MODELS, EventData


def _event_model(type_name: str, data_model: type[EventData]) -> type[BaseModel]:
    class_name = "".join(part.capitalize() for part in type_name.replace("clickup.", "").replace(".", "_").split("_"))
    doc = (data_model.__doc__ or "").strip()
    fields: dict[str, Any] = {
        "id": (str, Field(description="Stable per change: deduplicate on it")),
        "type": (Literal[type_name], Field()),
        "org_id": (str, Field()),
        "ticket_id": (str | None, Field(default=None)),
        "task_id": (str | None, Field(default=None)),
        "data": (data_model, Field()),
        "occurred_at": (str, Field(description="When the bridge recorded the event (UTC, ISO 8601)")),
    }
    model: type[BaseModel] = create_model(
        f"{class_name}Event",
        __doc__=f"`{type_name}`. {doc}".strip(),
        __config__=ConfigDict(defer_build=True),
        **fields,
    )
    return model


EVENT_MODELS: dict[str, type[BaseModel]] = {name: _event_model(name, model) for name, model in DATA_MODELS.items()}


def _union() -> Any:
    # One member per type, built from DATA_MODELS: a new type is documented as soon as it is defined
    return Annotated[Union[tuple(EVENT_MODELS.values())], Field(discriminator="type")]  # noqa: UP007


PortalEvent: Any = _union()


class EventsOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    events: list[PortalEvent]  # a union discriminated on `type`
    cursor: str | None = Field(description="Pass as `after` to read the events recorded since; null: none yet")


def validate_event(event: dict[str, Any]) -> BaseModel:
    """The event checked against its type's documented shape (pydantic.ValidationError otherwise; KeyError for
    an undocumented type)."""
    return EVENT_MODELS[event["type"]].model_validate(event)
