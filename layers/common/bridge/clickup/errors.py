"""ClickUp failures as a small set of domain exceptions. Messages carry method, path, status and ClickUp's
ECODE, never a token or a secret."""

from __future__ import annotations

REVOKED_CODES = frozenset({"OAUTH_018", "OAUTH_019", "OAUTH_021", "OAUTH_025", "OAUTH_077"})
NOT_AUTHORIZED_CODES = frozenset({"OAUTH_023", "OAUTH_026", "OAUTH_027"} | {f"OAUTH_0{n}" for n in range(29, 46)})


class ClickUpError(Exception):
    """Base class. `status` is ClickUp's HTTP status (0 when no answer came), `ecode` its error code."""

    def __init__(self, message: str, *, status: int = 0, ecode: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.status, self.ecode, self.detail = status, ecode, detail


class TokenRevoked(ClickUpError):
    """The organisation's token is revoked or unknown: the connection needs re-authorization."""


class WorkspaceNotAuthorized(ClickUpError):
    """The Workspace was not authorized for this token, or the id does not exist / is not visible."""


class NotFound(ClickUpError):
    pass


class RateLimited(ClickUpError):
    """The token's budget is spent until `reset_at` (epoch seconds)."""

    def __init__(self, message: str, *, reset_at: float, status: int = 429, ecode: str = "APP_002") -> None:
        super().__init__(message, status=status, ecode=ecode)
        self.reset_at = reset_at


class Transient(ClickUpError):
    """5xx, timeouts, connection errors. `ambiguous`: the request may have been applied at ClickUp."""

    def __init__(self, message: str, *, status: int = 0, ecode: str = "", ambiguous: bool = False) -> None:
        super().__init__(message, status=status, ecode=ecode)
        self.ambiguous = ambiguous


class MalformedAnswer(Transient):
    """ClickUp answered 2xx with a body that does not have its documented shape: treated as an outage (retried,
    503 `clickup_unavailable`); a write's answer is `ambiguous` (the request may have been applied)."""


class Permanent(ClickUpError):
    """Any other 4xx: retrying the same request cannot succeed."""
