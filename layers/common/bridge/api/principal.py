"""Who is calling: read from the JWT claims that API Gateway's authorizer put in the event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.core.errors import Forbidden, Unauthenticated


@dataclass(frozen=True)
class Principal:
    org_id: str
    user_id: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def principal_from_event(event: Any) -> Principal:
    """The organisation always comes from the token, never from the path or the body."""
    try:
        claims = event.request_context.authorizer.jwt_claim or {}
    except (AttributeError, KeyError):
        claims = {}
    if not claims:
        raise Unauthenticated("no authenticated principal on this request", code="unauthenticated")
    org_id = str(claims.get("org_id") or "").strip()
    if not org_id:
        raise Forbidden("the token carries no org_id claim", code="missing_org_claim")
    return Principal(org_id=org_id, user_id=str(claims.get("sub") or ""), role=str(claims.get("role") or "member"))


def require_admin(principal: Principal) -> Principal:
    if not principal.is_admin:
        raise Forbidden("this action needs the admin role", code="admin_required")
    return principal
