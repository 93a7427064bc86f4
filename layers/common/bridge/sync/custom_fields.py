"""A list's custom fields, read from ClickUp on request (issue 19), so the settings' field mapping is chosen from
the fields that exist rather than typed.

ClickUp: `GET /list/{list_id}/field` ("Get Accessible Custom Fields", operationId GetAccessibleCustomFields) answers
`{"fields": [{"id", "name", "type", "type_config", "date_created", "hide_from_guests"}]}`; `type` is one of the
documented Custom Field types (developer.clickup.com/docs/customfields: url, drop_down, labels, email, phone, date,
short_text, text, checkbox, number, currency, tasks, users, emoji, automatic_progress, manual_progress, location…);
a drop-down's `type_config.options` are `{"id", "name", "color", "orderindex"}`, a labels field's `{"id", "label",
"color"}`. Workspace-scoped fields are included when querying a list (the same page).

Organisation-scoped: only a list of the organisation's synced hierarchy, in a workspace its connection authorizes,
is asked for; any other id (another organisation's list, one never synced) is 404 `list_not_found` without a
request to ClickUp, and so is a list ClickUp no longer shows. The read goes through the one ClickUp client under
the organisation's rate limiter (`connection.client_for`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.clickup.errors import ClickUpError
from bridge.clickup.models import CustomField
from bridge.connection import service as connection
from bridge.connection.reads import portal_read
from bridge.core.errors import NotFound, Unprocessable
from bridge.repositories import hierarchy

OPTION_TYPES = frozenset({"drop_down", "labels"})


def _not_found() -> NotFound:
    # The same answer for a list never synced, another organisation's and one ClickUp no longer shows
    return NotFound("no such list in the organisation's synced ClickUp hierarchy", code="list_not_found")


def _workspace_of(org_id: str, workspace_ids: list[str], list_id: str) -> str | None:
    """The authorized workspace whose synced hierarchy holds the list, or None."""
    for ws in workspace_ids:
        if any(r["kind"] == "list" and r["id"] == list_id for r in hierarchy.load(org_id, ws)):
            return ws
    return None


def _option_rows(field: CustomField) -> list[dict[str, Any]]:
    """A drop-down's or a labels field's options as `{"id", "name", "color"}` (a label's text is its `label`)."""
    if field.type not in OPTION_TYPES:
        return []
    rows = []
    for option in field.type_config.get("options") or []:
        if not isinstance(option, dict) or option.get("id") is None:
            continue
        name = option.get("name") if field.type == "drop_down" else option.get("label", option.get("name"))
        color = option.get("color")
        rows.append(
            {
                "id": str(option["id"]),
                "name": str(name) if name is not None else "",
                "color": color if isinstance(color, str) else None,
            }
        )
    return rows


def list_fields(org_id: str, list_id: str, remaining_s: Callable[[], float] | None = None) -> dict[str, Any]:
    """The custom fields ClickUp shows the organisation's token on a list of its synced hierarchy:
    `{"list_id", "workspace_id", "fields": [{"id", "name", "type", "options": [{"id", "name", "color"}]}]}` in
    ClickUp's order (`options`: a drop-down's or a labels field's, else empty). `remaining_s`: the seconds the
    invocation has left (bounds the ClickUp call).

    Errors: 404 `list_not_found` (not in a synced, authorized workspace of the organisation, or gone at ClickUp:
    ClickUp's 404 or 401 OAUTH_023-class answer for an id it does not show), 409 `not_connected` /
    `module_disabled` / `needs_reauth` (ClickUp revoked the token: the connection is marked), 429
    `clickup_rate_limited` (the organisation's budget; `Retry-After`), 503 `clickup_unavailable` (5xx, timeout),
    422 `clickup_refused` (another 4xx, `details.ecode`)."""
    _settings, conn = connection.require_connected(org_id, allow_reauth=False)
    workspace_id = _workspace_of(org_id, conn.authorized_workspace_ids, list_id)
    if workspace_id is None:
        raise _not_found()
    client = connection.client_for(org_id, conn=conn, remaining_s=remaining_s)

    def refused(exc: ClickUpError) -> Exception:
        return Unprocessable(
            "ClickUp refused to list the list's custom fields", code="clickup_refused", details={"ecode": exc.ecode}
        )

    with portal_read(org_id, "list fields", _not_found, refused):
        fields = client.get_list_fields(list_id)
    return {
        "list_id": list_id,
        "workspace_id": workspace_id,
        "fields": [{"id": f.id, "name": f.name, "type": f.type, "options": _option_rows(f)} for f in fields],
    }
