"""Domain errors. Each carries a stable code; the API layer maps them to one status and one JSON body."""

from __future__ import annotations

# Codes a body's field validator raises (pydantic_core.PydanticCustomError(code, message)): a 422 whose every
# problem carries one of them answers with that code instead of the generic `validation_error`.
VALIDATION_CODES = frozenset(
    {
        "date_out_of_range",
        "date_invalid",
        "title_empty",
        "comment_empty",
        "status_not_mapped",
        "field_mapping_empty",
        "requester_name_empty",
        "field_value_invalid",
    }
)


class BridgeError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class Unauthenticated(BridgeError):
    status = 401
    code = "unauthenticated"


class Forbidden(BridgeError):
    status = 403
    code = "forbidden"


class NotFound(BridgeError):
    status = 404
    code = "not_found"


class Conflict(BridgeError):
    status = 409
    code = "conflict"


class Unprocessable(BridgeError):
    status = 422
    code = "unprocessable"


class DependencyUnavailable(BridgeError):
    status = 503
    code = "dependency_unavailable"


class Interrupted(Exception):
    """A long job ran out of the invocation's time: its checkpoint is saved and a continuation message is queued
    (the space sync, the sweep). Not an error of the request: the consumer reports the record as processed."""
