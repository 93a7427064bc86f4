"""Seeding: a workspace hierarchy from JSON, and the demo world `make dev` starts with."""

from __future__ import annotations

from typing import Any

from local.emulator.models import ClickUpBackend

# The bridge, registered as an OAuth app of the demo user (fixed so a newcomer can connect at once).
DEMO_CLIENT_ID = "BRIDGEDEMOCLIENT0000000000000001"
DEMO_CLIENT_SECRET = "BRIDGE-DEMO-SECRET-LOCAL-ONLY-00000000000000000000000000000001"
DEMO_REDIRECT_URI = "http://127.0.0.1:8000/clickup/oauth/callback"

SUPPORT_STATUSES = [
    {"status": "new", "type": "open", "color": "#d3d3d3"},
    {"status": "triage", "type": "custom", "color": "#f9d900"},
    {"status": "waiting on customer", "type": "custom", "color": "#ff7800"},
    {"status": "resolved", "type": "closed", "color": "#6bc950"},
]

DEMO_WORKSPACES: list[dict[str, Any]] = [
    {
        "name": "Acme Support",
        "plan": "business",
        "spaces": [
            {
                "name": "Customer Success",
                "folders": [
                    {"name": "Onboarding", "lists": [{"name": "Kickoff"}, {"name": "Training"}]},
                    {
                        "name": "Escalations",
                        "lists": [
                            {
                                "name": "Tier 2",
                                "statuses": SUPPORT_STATUSES,
                                "fields": [
                                    {"name": "Severity", "type": "drop_down", "options": ["S1", "S2", "S3"]},
                                    {"name": "Customer tier", "type": "short_text"},
                                ],
                            }
                        ],
                    },
                ],
                "lists": [{"name": "Support inbox", "statuses": SUPPORT_STATUSES}],
            },
            {
                "name": "Partners",
                "folders": [{"name": "Resellers", "lists": [{"name": "EMEA"}, {"name": "APAC"}]}],
                "lists": [{"name": "Partner requests"}],
            },
            {"name": "Old projects", "archived": True, "lists": [{"name": "2024 migration"}]},
        ],
    },
    {
        "name": "Acme Engineering",
        "plan": "business_plus",
        "spaces": [
            {
                "name": "Platform",
                "folders": [{"name": "Backend", "lists": [{"name": "Bugs"}, {"name": "Features"}]}],
                "lists": [{"name": "Ops requests"}],
            },
        ],
    },
]


def seed_workspace(backend: ClickUpBackend, spec: dict[str, Any], member_ids: list[int]) -> dict[str, Any]:
    """Create a workspace and its hierarchy; returns the ids, shaped like the input."""
    with backend.lock:
        team = backend.create_team(
            spec.get("name", "Workspace"), member_ids, plan=spec.get("plan", "business"), team_id=spec.get("id")
        )
        spaces_out = []
        for space_spec in spec.get("spaces", []):
            space = backend.create_space(
                team.id,
                space_spec["name"],
                statuses=space_spec.get("statuses"),
                archived=bool(space_spec.get("archived", False)),
            )
            folders_out = []
            for folder_spec in space_spec.get("folders", []):
                folder = backend.create_folder(
                    space.id, folder_spec["name"], archived=bool(folder_spec.get("archived", False))
                )
                lists = [_seed_list(backend, lst, folder_id=folder.id) for lst in folder_spec.get("lists", [])]
                folders_out.append({"id": folder.id, "name": folder.name, "archived": folder.archived, "lists": lists})
            folderless = [_seed_list(backend, lst, space_id=space.id) for lst in space_spec.get("lists", [])]
            spaces_out.append(
                {
                    "id": space.id,
                    "name": space.name,
                    "archived": space.archived,
                    "folders": folders_out,
                    "lists": folderless,
                }
            )
        return {"team_id": team.id, "name": team.name, "spaces": spaces_out}


def _seed_list(
    backend: ClickUpBackend, spec: dict[str, Any], folder_id: str | None = None, space_id: str | None = None
) -> dict[str, Any]:
    lst = backend.create_list(
        spec["name"],
        folder_id=folder_id,
        space_id=space_id,
        statuses=spec.get("statuses"),
        archived=bool(spec.get("archived", False)),
    )
    fields = [backend.create_field(lst.id, f["name"], f["type"], f.get("options")) for f in spec.get("fields", [])]
    return {
        "id": lst.id,
        "name": lst.name,
        "archived": lst.archived,
        "statuses": [s.status for s in lst.statuses],
        "fields": [
            {
                "id": f.id,
                "name": f.name,
                "type": f.type,
                "options": {o.get("name", o.get("label")): o["id"] for o in f.options},
            }
            for f in fields
        ],
    }


def seed_demo(backend: ClickUpBackend, redirect_uri: str = DEMO_REDIRECT_URI) -> dict[str, Any]:
    """The demo user with two workspaces, and the bridge registered as its OAuth app."""
    with backend.lock:
        user = backend.create_user("Dana Demo", "dana@acme.example")
        colleague = backend.create_user("Sam Support", "sam@acme.example")
        app = backend.create_app(
            "Customer portal bridge", [redirect_uri], client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET
        )
        workspaces = [seed_workspace(backend, ws, [user.id, colleague.id]) for ws in DEMO_WORKSPACES]
        backend.browser_user_id = user.id
        return {
            "user_id": user.id,
            "colleague_id": colleague.id,
            "client_id": app.client_id,
            "redirect_uris": app.redirect_uris,
            "workspaces": workspaces,
        }
