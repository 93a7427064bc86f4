"""Who is calling: read from the JWT claims that API Gateway's authorizer put in the event."""

from __future__ import annotations

from typing import Any

from bridge.core.errors import Forbidden, Unauthenticated
from bridge.core.inputs import is_identity
from bridge.core.principal import Principal, require_admin

__all__ = ["Principal", "principal_from_event", "require_admin"]


def principal_from_event(event: Any) -> Principal:
    """The organisation always comes from the token, never from the path or the body.

    Every row is keyed by the `org_id` claim, so it is used exactly as the identity provider asserted it, never
    trimmed or folded: a claim that is not a usable identity (see `bridge.core.inputs.is_identity`: surrounding
    spaces, control or bidi characters, lone surrogates, over 256 characters) is refused with 403
    `invalid_org_claim` (`invalid_sub_claim` for `sub`). Raises Unauthenticated (401) without claims, Forbidden
    (403) `missing_org_claim` without an organisation."""
    try:
        claims = event.request_context.authorizer.jwt_claim or {}
    except (AttributeError, KeyError):
        claims = {}
    if not claims:
        raise Unauthenticated("no authenticated principal on this request", code="unauthenticated")
    org_id = claims.get("org_id")
    if org_id is None or org_id == "":
        raise Forbidden("the token carries no org_id claim", code="missing_org_claim")
    if not is_identity(org_id):
        raise Forbidden("the token's org_id claim is not a valid organisation id", code="invalid_org_claim")
    sub = claims.get("sub")
    if sub is not None and sub != "" and not is_identity(sub):
        raise Forbidden("the token's sub claim is not a valid user id", code="invalid_sub_claim")
    return Principal(org_id=org_id, user_id=str(sub or ""), role=str(claims.get("role") or "member"))
