"""JSON shapes of ClickUp API v2 responses (ids as strings, dates as ms strings, priority/status objects)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local.emulator.models import ClickList, ClickUpBackend, Folder, Space, Task, Team, User, priority_object


def user(u: User) -> dict[str, Any]:
    return {
        "user": {
            "id": u.id,
            "username": u.username,
            "email": u.email,
            "color": u.color,
            "profilePicture": None,
            "initials": u.initials,
            "week_start_day": 0,
            "global_font_support": True,
            "timezone": u.timezone,
        }
    }


def team(b: ClickUpBackend, t: Team) -> dict[str, Any]:
    """A workspace of `GET /team` (GetAuthorizedTeams): members as `{"user": User}` with ClickUp's User fields
    (id, username, email, color, profilePicture, initials; /v2/user's schema) and `role` (TeamMember schema: 1 owner,
    2 admin, 3 member, 4 guest): the workspace's first member owns it, the others are members."""
    members = [
        {
            "user": {
                "id": m.id,
                "username": m.username,
                "email": m.email,
                "color": m.color,
                "profilePicture": None,
                "initials": m.initials,
                "role": 1 if i == 0 else 3,
            }
        }
        for i, m in enumerate(b.users[uid] for uid in t.member_ids if uid in b.users)
    ]
    return {"id": t.id, "name": t.name, "color": t.color, "avatar": None, "members": members}


def space(s: Space) -> dict[str, Any]:
    feature_off = {"enabled": False}
    return {
        "id": s.id,
        "name": s.name,
        "private": False,
        "color": None,
        "avatar": None,
        "admin_can_manage": True,
        "archived": s.archived,
        "members": [],
        "statuses": [st.render() for st in s.statuses],
        "multiple_assignees": True,
        "features": {
            "due_dates": {
                "enabled": True,
                "start_date": True,
                "remap_due_dates": False,
                "remap_closed_due_date": False,
            },
            "time_tracking": feature_off,
            "tags": {"enabled": True},
            "time_estimates": feature_off,
            "checklists": {"enabled": True},
            "custom_fields": {"enabled": True},
            "remap_dependencies": feature_off,
            "dependency_warning": feature_off,
            "portfolios": feature_off,
        },
    }


def list_item(b: ClickUpBackend, lst: ClickList, with_statuses: bool = True) -> dict[str, Any]:
    folder, sp = b.folders[lst.folder_id], b.spaces[lst.space_id]
    out: dict[str, Any] = {
        "id": lst.id,
        "name": lst.name,
        "orderindex": lst.orderindex,
        "content": "",
        "status": None,
        "priority": None,
        "assignee": None,
        "task_count": str(sum(1 for t in b.tasks.values() if t.list_id == lst.id)),
        "due_date": None,
        "start_date": None,
        "folder": {"id": folder.id, "name": folder.name, "hidden": folder.hidden, "access": True},
        "space": {"id": sp.id, "name": sp.name, "access": True},
        "archived": lst.archived,
        "override_statuses": lst.override_statuses,
        "permission_level": "create",
    }
    if with_statuses:
        out["statuses"] = [s.render() for s in lst.statuses]
    return out


def folder(b: ClickUpBackend, f: Folder, lists_ok: Callable[[bool], bool] | None = None) -> dict[str, Any]:
    """A folder with its lists embedded: those `lists_ok(list.archived)` selects (Get Folders applies its
    `archived` selection to them too; Get Folder embeds the active ones)."""
    sp = b.spaces[f.space_id]
    ok = lists_ok or (lambda archived: not archived)
    lists = [list_item(b, x) for x in b.lists.values() if x.folder_id == f.id and ok(x.archived)]
    return {
        "id": f.id,
        "name": f.name,
        "orderindex": f.orderindex,
        "override_statuses": False,
        "hidden": f.hidden,
        "space": {"id": sp.id, "name": sp.name, "access": True},
        "task_count": str(sum(1 for t in b.tasks.values() if b.lists[t.list_id].folder_id == f.id)),
        "archived": f.archived,
        "lists": lists,
        "permission_level": "create",
    }


def _ms(value: int | None) -> str | None:
    return None if value is None else str(value)


def task(b: ClickUpBackend, t: Task, markdown: bool = False) -> dict[str, Any]:
    lst = b.lists[t.list_id]
    folder_, sp = b.folders[lst.folder_id], b.spaces[lst.space_id]
    creator = b.users.get(t.creator_id)
    out: dict[str, Any] = {
        "id": t.id,
        "custom_id": t.custom_id,
        "custom_item_id": 0,
        "name": t.name,
        "text_content": t.description,
        "description": t.description,
        "status": {"id": f"p{sp.id}_{t.status.status.replace(' ', '_')}", **t.status.render()},
        "orderindex": "1.00000000000000000000000000000000",
        "date_created": str(t.date_created),
        "date_updated": str(t.date_updated),
        "date_closed": _ms(t.date_closed),
        "date_done": _ms(t.date_closed),
        "archived": t.archived,
        "creator": {
            "id": creator.id,
            "username": creator.username,
            "color": creator.color,
            "email": creator.email,
            "profilePicture": None,
        }
        if creator
        else None,
        "assignees": [
            {
                "id": u.id,
                "username": u.username,
                "color": u.color,
                "initials": u.initials,
                "email": u.email,
                "profilePicture": None,
            }
            for u in (b.users.get(a) for a in t.assignee_ids)
            if u
        ],
        "group_assignees": [],
        "watchers": [],
        "checklists": [],
        "tags": [{"name": tag, "tag_fg": "#800000", "tag_bg": "#800000", "creator": t.creator_id} for tag in t.tags],
        "parent": t.parent,
        "top_level_parent": t.parent,
        "priority": priority_object(t.priority),
        "due_date": _ms(t.due_date),
        "start_date": _ms(t.start_date),
        "points": t.points,
        "time_estimate": t.time_estimate,
        "time_spent": 0,
        "custom_fields": [b.fields[f].render(t.field_values.get(f), with_value=True) for f in lst.field_ids],
        "dependencies": [],
        "linked_tasks": [],
        "locations": [],
        "team_id": sp.team_id,
        "url": f"{b.base_url}/t/{t.id}",
        "sharing": {
            "public": False,
            "public_share_expires_on": None,
            "public_fields": [],
            "token": None,
            "seo_optimized": False,
        },
        "permission_level": "create",
        "list": {"id": lst.id, "name": lst.name, "access": True},
        "project": {"id": folder_.id, "name": folder_.name, "hidden": folder_.hidden, "access": True},
        "folder": {"id": folder_.id, "name": folder_.name, "hidden": folder_.hidden, "access": True},
        "space": {"id": sp.id},
        "attachments": [],
    }
    if markdown:
        out["markdown_description"] = t.description
    return out
