"""Examples for the OpenAPI document (issue 19 part 4): one per request body and per answer, so the
documentation page (`GET /docs`) shows what each route takes and gives. Set on the component schemas (OpenAPI 3.1:
JSON Schema's `examples`) and, for the answers whose schema is inline, on the media type (`example`). A test
(tests/unit/test_openapi.py) fails when a route's body or answer has none."""

from __future__ import annotations

from typing import Any

TICKET = "3f2b1c9e-8a4d-4f6b-9c1e-2d7a5b8e0f13"
TASK = "86c0vxm2k"
WS = "9012345678"
NOW = "2026-12-01T09:30:00Z"

SCHEMAS: dict[str, Any] = {
    "AssignmentIn": {"space_id": "90120001", "list_id": "901200011"},
    "ChangeIn": {"status": "in progress", "priority": "high", "due_date": "2026-12-24", "assignees": [2772463]},
    "CommentIn": {"text": "The customer confirmed the fix works."},
    "DefaultWorkspaceIn": {"workspace_id": WS},
    "PersonalTokenIn": {"token": "pk_2772463_EXAMPLEEXAMPLEEXAMPLEEXAMPLE12"},
    "LinkIn": {"task_url": f"https://app.clickup.com/t/{WS}/SUP-42"},
    "TicketIn": {
        "title": "Printer on fire",
        "description": "Smoke from tray 2 since this morning.",
        "priority": "urgent",
        "customer_id": "cust-1",
        "ticket_url": f"https://portal.example.com/tickets/{TICKET}",
        "requester": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "due_date": "2026-12-24",
        "tags": ["hardware"],
        "fields": {"severity": "S1"},
    },
    "OrgSettings": {
        "enabled": True,
        "return_to_allow_list": ["https://portal.example.com"],
        "time_zone": "Europe/London",
        "space_default_lists": {"90120001": "901200011"},
        "status_mapping": {"901200011": {"open": "to do", "pending": "in progress", "solved": "complete"}},
        "field_mapping": {"severity": "d2ab17e0-41d3-4d28-bdbb-f3f0f2c62f8b"},
        "portal_webhook_url": "https://portal.example.com/hooks/clickup",
    },
    "AssignmentOut": {
        "customer_id": "cust-1",
        "workspace_id": WS,
        "space_id": "90120001",
        "list_id": "901200011",
        "status": "ok",
        "updated_at": NOW,
    },
    "ConnectOut": {
        "authorize_url": "https://app.clickup.com/api?client_id=ABC&redirect_uri=https%3A%2F%2Fbridge.example.com"
        "%2Fclickup%2Foauth%2Fcallback&state=Zm9v",
        "expires_at": "2026-12-01T09:40:00Z",
    },
    "ConnectionOut": {
        "status": "connected",
        "mode": "oauth",
        "user": {"id": "2772463", "username": "Alex Johnson", "email": "alex@example.com"},
        "workspaces": [{"id": WS, "name": "Support", "authorized": True}],
        "default_workspace_id": WS,
        "connected_at": "2026-11-30T08:00:00Z",
        "last_sync_at": NOW,
        "webhooks": [{"workspace_id": WS, "health": "active"}],
    },
    "EventsOut": {
        "events": [
            {
                "id": "8b3f980378f11377c24b8a6db66f86de",
                "type": "clickup.task.status_changed",
                "org_id": "org-acme",
                "ticket_id": TICKET,
                "task_id": TASK,
                "data": {
                    "changed_at": NOW,
                    "by": "clickup:user:183",
                    "current": True,
                    "status": "in progress",
                    "previous": "to do",
                },
                "occurred_at": NOW,
            }
        ],
        "cursor": "MDAwMDAwMDAwMDE3OTYwOTE4OTIwNDU",
    },
    "HealthReport": {
        "status": "ok",
        "version": "0.1.0",
        "stage": "prod",
        "dependencies": [{"name": "dynamodb", "status": "ok", "latency_ms": 4.2}],
        "configuration": [],
    },
    "HierarchyOut": {
        "workspace_id": WS,
        "synced_at": NOW,
        "stale": False,
        "spaces": [
            {
                "id": "90120001",
                "name": "Support",
                "archived": False,
                "folders": [],
                "lists": [
                    {
                        "id": "901200011",
                        "name": "Inbox",
                        "statuses": [{"status": "to do", "type": "open", "color": "#d3d3d3", "orderindex": 0}],
                    }
                ],
            }
        ],
    },
    "HistoryOut": {
        "ticket_id": TICKET,
        "entries": [
            {"at": NOW, "actor": "user:user-1", "action": "queued", "before": {}, "after": {"state": "queued"}},
            {
                "at": "2026-12-01T09:30:02Z",
                "actor": "worker",
                "action": "created",
                "before": {"state": "queued"},
                "after": {"state": "created", "task_id": TASK},
            },
        ],
    },
    "Me": {"org_id": "org-acme", "user_id": "user-1", "role": "admin"},
    "MembersOut": {
        "workspace_id": WS,
        "synced_at": NOW,
        "members": [
            {"id": 183, "username": "Alex Johnson", "email": "alex@example.com", "initials": "AJ", "role": "owner"},
            {"id": 2772463, "username": "Sam Lee", "email": "sam@example.com", "initials": "SL", "role": "member"},
        ],
    },
    "ListFieldsOut": {
        "list_id": "901200011",
        "workspace_id": WS,
        "fields": [
            {
                "id": "d2ab17e0-41d3-4d28-bdbb-f3f0f2c62f8b",
                "name": "Severity",
                "type": "drop_down",
                "options": [
                    {"id": "4a3e1f6c-0b7d-4c52-9f1e-8d2a6b5c7e90", "name": "S1", "color": "#e50000"},
                    {"id": "7c9d2e4b-5a1f-4e38-b6c0-1f2e3d4c5b6a", "name": "S2", "color": None},
                ],
            },
            {
                "id": "03efda77-c7a0-42d3-8afd-fd546353c2f5",
                "name": "Customer tier",
                "type": "short_text",
                "options": [],
            },
        ],
    },
    "SyncOut": {"state": "queued"},
    "TaskLinkOut": {
        "state": "created",
        "ticket_id": TICKET,
        "task_id": TASK,
        "task_url": f"https://app.clickup.com/t/{TASK}",
        "list_id": "901200011",
        "status": "to do",
        "priority": "urgent",
        "assignees": [2772463],
        "due_date": "2026-12-24",
        "updated_at": NOW,
        "pending_changes": 0,
    },
    "TestOut": {"result": "ok", "detail": "ClickUp answered GET /user", "latency_ms": 182.4},
    "PortalWebhookSecretOut": {"secret": "whsec_EXAMPLEEXAMPLEEXAMPLEEXAMPLE", "header": "X-Bridge-Signature"},
    "ErrorBody": {
        "error": {
            "code": "validation_error",
            "message": "the request is not valid",
            "details": [{"field": "priority", "message": "Input should be 'urgent', 'high', 'normal' or 'low'"}],
        }
    },
    "GatewayMessage": {"message": "Unauthorized"},
}

INLINE: dict[tuple[str, str, str], Any] = {
    ("get", "/docs", "200"): {"openapi": "3.1.0", "info": {"title": "ClickUp bridge portal API"}, "paths": {}},
    ("post", "/webhooks/clickup", "200"): {"status": "queued"},
}


def apply(document: dict[str, Any]) -> None:
    """Put the examples into the document (in place); a schema named here must exist (KeyError otherwise)."""
    schemas = document["components"]["schemas"]
    for name, example in SCHEMAS.items():
        schemas[name]["examples"] = [example]
    for (method, path, status), example in INLINE.items():
        document["paths"][path][method]["responses"][status]["content"]["application/json"]["example"] = example
