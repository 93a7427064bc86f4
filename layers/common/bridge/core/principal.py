"""Who is calling, as a value the use cases take: the organisation, the user and the role. Read from the HTTP
request by `bridge.api.principal.principal_from_event`; it lives here, below every layer, so logic never imports the
HTTP layer for it."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.core.errors import Forbidden


@dataclass(frozen=True)
class Principal:
    org_id: str
    user_id: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def require_admin(principal: Principal) -> Principal:
    if not principal.is_admin:
        raise Forbidden("this action needs the admin role", code="admin_required")
    return principal
