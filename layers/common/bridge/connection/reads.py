"""ClickUp's answers to a read made for a portal request, as the portal API's errors (one mapping for every route
that reads ClickUp on the caller's behalf: a list's custom fields, a task to link)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bridge.clickup.errors import ClickUpError, RateLimited, TokenRevoked, Transient, WorkspaceNotAuthorized
from bridge.clickup.errors import NotFound as ClickUpNotFound
from bridge.connection import service as connection
from bridge.core.errors import Conflict, DependencyUnavailable


@contextmanager
def portal_read(
    org_id: str,
    where: str,
    not_found: Callable[[], Exception],
    refused: Callable[[ClickUpError], Exception],
) -> Iterator[None]:
    """Map what ClickUp answers inside the block:

    - not found, or a workspace the token no longer authorizes → `not_found()` (the same answer as an id of
      another organisation: nothing tells them apart);
    - token revoked (`OAUTH_018/019/021/025/077`) → the connection is marked `needs_reauth` (`where` names the
      read in the event) and 409 `needs_reauth`;
    - rate limited → re-raised (the resolver answers 429 with `Retry-After`);
    - 5xx, a timeout, no connection → 503 `clickup_unavailable`;
    - any other refusal → `refused(exc)`."""
    try:
        yield
    except (ClickUpNotFound, WorkspaceNotAuthorized) as exc:
        raise not_found() from exc
    except TokenRevoked as exc:
        connection.token_revoked(org_id, where)
        raise Conflict(connection.REAUTH_MESSAGE, code="needs_reauth") from exc
    except RateLimited:
        raise
    except Transient as exc:
        raise DependencyUnavailable("ClickUp is unavailable; try again", code="clickup_unavailable") from exc
    except ClickUpError as exc:
        raise refused(exc) from exc
