"""Bodies shared by every route: the error envelope."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorDetail(BaseModel):
    model_config = ConfigDict(defer_build=True)

    code: str = Field(description="Stable, machine-readable error code")
    message: str = Field(description="Human-readable explanation")
    details: Any | None = Field(default=None, description="Field errors or extra context, when useful")


class ErrorBody(BaseModel):
    model_config = ConfigDict(defer_build=True)

    error: ErrorDetail


_DESCRIPTIONS = {
    400: "Malformed request: `invalid_json`, `invalid_body` (not UTF-8, a lone surrogate, a repeated member name), "
    "`body_required`",
    401: "Missing or invalid credentials",
    403: "The caller's role may not do this",
    404: "Not found",
    409: "Conflicts with the current state (e.g. module disabled)",
    413: "The body is larger than the bridge accepts",
    415: "`unsupported_media_type`: the body is not application/json (any case, `+json` suffixes, UTF-8)",
    422: "Validation failed",
    429: "ClickUp budget for this organisation spent; retry after Retry-After seconds",
    503: "A dependency is unavailable",
}


def error_responses(*statuses: int) -> dict[int, dict[str, Any]]:
    """OpenAPI `responses` entries for the given error statuses (all share the error envelope)."""
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {"application/json": {"model": ErrorBody}},
        }
        for status in statuses
    }
