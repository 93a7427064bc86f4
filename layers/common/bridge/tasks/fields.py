"""Portal field values converted to what a ClickUp custom field of a given type takes
(`POST /task/{id}/field/{field_id}` `{"value": ...}`): drop-downs and labels take option ids, not labels."""

from __future__ import annotations

from typing import Any

from bridge.clickup.models import CustomField
from bridge.tasks.render import due_date_ms

TEXT_TYPES = {"text", "short_text", "email", "url", "phone"}
NUMBER_TYPES = {"number", "currency", "emoji"}


class FieldValueError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _option_id(field: CustomField, value: Any) -> str:
    wanted = str(value).strip().casefold()
    for option in field.options:
        label = (option.name or "").casefold()
        if wanted in (option.id.casefold(), label):
            return option.id
    raise FieldValueError(field.name, f"{value!r} is not one of the field's options")


def convert(field: CustomField, value: Any, time_zone: str | None) -> Any:
    kind = field.type
    if kind == "drop_down":
        return _option_id(field, value)
    if kind == "labels":
        return _label_ids(field, value)
    if kind in TEXT_TYPES:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise FieldValueError(field.name, "expects text")  # never a Python rendering ("True", "['a']")
        return str(value)
    if kind in NUMBER_TYPES:
        return _number(field, value)
    if kind == "checkbox":
        if isinstance(value, bool):
            return value
        raise FieldValueError(field.name, "expects true or false")
    if kind == "date":
        try:
            return due_date_ms(str(value), time_zone)[0]
        except ValueError:
            raise FieldValueError(field.name, "expects a date (YYYY-MM-DD) or a date-time with an offset") from None
    raise FieldValueError(field.name, f"fields of type {kind!r} are not supported")


def _label_ids(field: CustomField, value: Any) -> list[str]:
    """A labels field's option ids for a label or a list of them, each by id or label (case-insensitive, trimmed).
    FieldValueError naming the first that is not one of the field's labels."""
    values = value if isinstance(value, list) else [value]
    options = field.type_config.get("options") or []
    out = []
    for v in values:
        wanted = str(v).strip().casefold()
        match = next(
            (
                o["id"]
                for o in options
                if wanted in (o["id"].casefold(), str(o.get("label") or o.get("name") or "").casefold())
            ),
            None,
        )
        if match is None:
            raise FieldValueError(field.name, f"{v!r} is not one of the field's labels")
        out.append(match)
    return out


def _number(field: CustomField, value: Any) -> int | float:
    """A number field's value: an int when whole. FieldValueError for a boolean or anything not a number."""
    if isinstance(value, bool):
        raise FieldValueError(field.name, "expects a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FieldValueError(field.name, "expects a number") from None
    return int(number) if number.is_integer() else number
