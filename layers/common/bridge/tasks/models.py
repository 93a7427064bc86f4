"""Bodies of the ticket → task routes (the contract the portal codes against)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from bridge.core.inputs import ClickUpUserId, PortalId, dynamodb_number_problem
from bridge.tasks import render

Priority = Literal["urgent", "high", "normal", "low"]


def _date(value: Any) -> Any:
    """A date field's value checked (render.validate_due_date); a well-formed date outside 1970-2100 is refused
    with its own code (`date_out_of_range`, the route's error code), anything else unreadable as `date_invalid`."""
    if value is None:
        return None
    try:
        return render.canonical_due_date(value)  # stored and compared canonically: a day, or a UTC instant
    except render.DateOutOfRange as exc:
        raise PydanticCustomError("date_out_of_range", str(exc)) from None
    except (ValueError, TypeError) as exc:
        raise PydanticCustomError(
            "date_invalid", f"not a date (YYYY-MM-DD) or a date-time with offset: {exc}"
        ) from None


class Requester(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        line = render.one_line(value)  # a metadata line of the description: one line
        if not render.has_visible(line):
            raise PydanticCustomError("requester_name_empty", "the requester's name has no visible character")
        return line


class _DueDate(BaseModel):
    model_config = ConfigDict(defer_build=True)

    @field_validator("due_date", check_fields=False, mode="before")
    @classmethod
    def _due(cls, value: Any) -> Any:
        # Every value but null is checked: "" is not a date (it used to clear the due date silently).
        return _date(value)


FIELD_TEXT_MAX = 10_000
FIELD_LABELS_MAX = 50
FIELD_LABEL_MAX = 200


def field_value_problem(value: Any) -> str | None:
    """Why a portal field's value is not one a ClickUp custom field can take and DynamoDB can store, or None.
    Taken: text (≤ `FIELD_TEXT_MAX` characters), a number DynamoDB stores exactly
    (`inputs.dynamodb_number_problem`), true/false, a list of option labels (≤ `FIELD_LABELS_MAX`, each text
    ≤ `FIELD_LABEL_MAX`), or null. Objects are refused (no ClickUp field type takes one; DynamoDB would refuse an
    empty name or a nesting deeper than 32 levels)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return None if len(value) <= FIELD_TEXT_MAX else f"text over {FIELD_TEXT_MAX} characters"
    if isinstance(value, int | float):
        return dynamodb_number_problem(value)
    if isinstance(value, list):
        if len(value) > FIELD_LABELS_MAX:
            return f"more than {FIELD_LABELS_MAX} labels"
        if all(isinstance(v, str) and 0 < len(v) <= FIELD_LABEL_MAX for v in value):
            return None
        return f"a list holds option labels only (text of 1..{FIELD_LABEL_MAX} characters)"
    return "not a value a ClickUp custom field takes (text, number, true/false, a list of labels or null)"


class TicketIn(_DueDate):
    """A portal ticket. Normalised as ClickUp would store it: the title on one line (control characters and
    white space runs collapsed; nothing left → 422 `title_empty`), tags trimmed, lower-cased, without empty
    ones or duplicates; a due date within 1970-2100 (else 422 `date_out_of_range`); `fields` with a null value
    are not sent (a new task has no value to clear)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    title: str = Field(min_length=1, max_length=900, description="one line in the task name (control chars collapse)")
    description: str | None = Field(default=None, max_length=50_000)
    priority: Priority
    customer_id: PortalId
    ticket_url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://[^\s]+$")
    requester: Requester | None = None
    due_date: str | None = Field(
        default=None,
        description="YYYY-MM-DD (that day in the workspace's zone) or an ISO date-time with offset; 1970-2100",
    )
    tags: list[str] = Field(
        default_factory=list, max_length=20, description="trimmed, lower-cased, empty and duplicate tags dropped"
    )
    fields: dict[str, Any] = Field(
        default_factory=dict,
        max_length=100,
        description="portal field → value (see field_mapping): text (≤ 10,000 characters), a number (DynamoDB's "
        "range: 38 digits, 1E-130..9.99E+125), true/false, a list of option labels (≤ 50, each ≤ 200 characters) "
        "or null (not sent)",
    )

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        line = render.one_line(value)
        if not render.has_visible(line):
            raise PydanticCustomError("title_empty", "the title has no visible character")
        return line

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        return render.without_controls(value) if value is not None else None  # line breaks and tabs kept

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return render.normalise_tags(value)

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name, item in value.items():
            problem = field_value_problem(item)
            if problem is not None:
                raise PydanticCustomError(
                    "field_value_invalid", "{field}: {problem}", {"field": name[:128], "problem": problem}
                )
        return {k: v for k, v in value.items() if v is not None}


class ChangeIn(_DueDate):
    """A change to the ticket's task. A field absent is left alone; null clears it where ClickUp can clear it
    (priority → no priority, due date → none, assignees → nobody, the same as `[]`); `status: null` is refused
    (422 `status_not_clearable`: a ClickUp task always has a status). Assignees must be members of the task's
    workspace (422 `assignee_not_member`)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    status: str | None = Field(
        default=None, min_length=1, max_length=100, description="a portal status (mapped); null is refused"
    )
    priority: Priority | None = Field(default=None, description="null clears it (no priority)")
    due_date: str | None = Field(default=None, description="as on creation; null clears it")
    assignees: list[ClickUpUserId] | None = Field(
        default=None, max_length=50, description="ClickUp user ids: the full set; [] or null: nobody"
    )

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise PydanticCustomError("status_not_mapped", "a status has a name")
        return value.strip() if value is not None else None


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)
    text: str = Field(min_length=1, max_length=20_000, description="at least one visible character")

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        text = render.without_controls(value)
        if not render.has_visible(text):  # "\u200b" or "\x00" alone: nothing a reader sees
            raise PydanticCustomError("comment_empty", "the comment has no visible character")
        return text


class LinkError(BaseModel):
    model_config = ConfigDict(defer_build=True)

    code: str
    message: str


class TaskLinkOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    state: Literal["queued", "creating", "created", "failed", "deleted"]
    ticket_id: str
    task_id: str | None = None
    task_url: str | None = None
    list_id: str | None = None
    status: str | None = None
    priority: Priority | None = None
    assignees: list[int] = Field(default_factory=list)
    due_date: str | None = None
    updated_at: str | None = None
    error: LinkError | None = None
    pending_changes: int = Field(default=0, description="accepted changes not yet applied in ClickUp")


class HistoryEntry(BaseModel):
    model_config = ConfigDict(defer_build=True)

    at: str = Field(description="When the bridge recorded the change (UTC)")
    actor: str = Field(description="user:{portal user}, worker, clickup:user:{ClickUp user id} or clickup")
    action: str
    before: dict[str, Any]
    after: dict[str, Any]


class HistoryOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    ticket_id: str
    entries: list[HistoryEntry]
