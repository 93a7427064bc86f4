"""Issue 14, failure 8: each portal event type has one documented shape (bridge.events.models), the OpenAPI
document carries each as a schema, and the publisher refuses anything else."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from bridge.events import feed, models
from local import openapi
from tests.portal_events import documented_types, problems

TYPES = {
    "clickup.task.created",
    "clickup.task.failed",
    "clickup.task.change_failed",
    "clickup.task.fields_failed",
    "clickup.task.status_changed",
    "clickup.task.priority_changed",
    "clickup.task.due_date_changed",
    "clickup.task.assignees_changed",
    "clickup.task.moved",
    "clickup.task.comment_added",
    "clickup.task.comment_updated",
    "clickup.task.comment_deleted",
    "clickup.task.deleted",
    "clickup.task.linked",
    "clickup.task.unlinked",
    "clickup.connection.connected",
    "clickup.connection.needs_reauth",
    "clickup.connection.disconnected",
    "clickup.assignment.broken",
}


def test_every_type_has_a_model_and_a_schema_in_the_document() -> None:
    assert set(models.DATA_MODELS) == TYPES
    assert documented_types() == TYPES
    document = json.loads(openapi.DOCUMENT.read_text())
    route = document["paths"]["/api/v1/clickup/events"]["get"]["responses"]["200"]["content"]["application/json"]
    events_out = document["components"]["schemas"][route["schema"]["$ref"].rsplit("/", 1)[1]]
    assert events_out["properties"]["events"]["items"] == {"$ref": "#/components/schemas/PortalEvent"}
    push = document["webhooks"]["portalEvent"]["post"]["requestBody"]["content"]["application/json"]
    assert push["schema"] == {"$ref": "#/components/schemas/PortalEvent"}


def _event(kind: str, data: dict) -> dict:
    return {"id": "e" * 32, "type": kind, "org_id": "org-1", "task_id": "t1", "data": data, "occurred_at": "z"}


CHANGE = {"changed_at": "2026-12-01T00:00:00Z", "by": "clickup", "current": True}


def test_link_and_unlink_events_have_their_documented_shapes() -> None:
    """Issue 19: linking and unlinking a task are portal events; the document refuses another shape."""
    linked = {
        "task_id": "t1",
        "task_url": "https://app.clickup.com/t/t1",
        "list_id": "l1",
        "workspace_id": "w1",
        "status": "to do",
        "by": "user:alice",
    }
    assert problems(_event("clickup.task.linked", linked)) == []
    assert problems(_event("clickup.task.linked", {k: v for k, v in linked.items() if k != "by"}))
    unlinked = {"task_id": None, "state": "failed", "by": "user:alice"}
    assert problems(_event("clickup.task.unlinked", unlinked)) == []
    assert problems(_event("clickup.task.unlinked", {**unlinked, "state": "queued"}))  # in flight: never unlinked
    with pytest.raises(ValidationError):
        models.TaskUnlinked.model_validate({**unlinked, "extra": 1})


def test_a_status_change_without_previous_is_not_the_documented_shape() -> None:
    """The sweep's status_changed lacked `previous` (issue 14): that shape is refused by model and document."""
    assert problems(_event("clickup.task.status_changed", {**CHANGE, "status": "done", "previous": "new"})) == []
    assert problems(_event("clickup.task.status_changed", {**CHANGE, "status": "done"}))
    with pytest.raises(ValidationError):
        models.StatusChanged.model_validate({**CHANGE, "status": "done"})
    with pytest.raises(ValidationError):
        feed.validate_event(_event("clickup.task.status_changed", {**CHANGE, "status": "done"}))
    assert feed.validate_event(_event("clickup.task.status_changed", {**CHANGE, "status": "done", "previous": None}))


def test_unknown_fields_and_types_are_refused() -> None:
    assert problems(_event("clickup.task.deleted", {**CHANGE, "extra": 1}))
    assert problems(_event("clickup.task.renamed", {}))
    assert problems(_event("clickup.task.comment_deleted", {**CHANGE, "comment_id": "c1", "task_id": "t1"})) == []
    update = {**CHANGE, "comment_id": "c1", "text": "new text"}
    assert problems(_event("clickup.task.comment_updated", update)) == []
    assert problems(_event("clickup.task.comment_updated", {**CHANGE, "comment_id": "c1"}))


def test_the_publisher_refuses_a_shape_that_is_not_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    from bridge.events import publisher

    monkeypatch.setattr(publisher.feed, "append", lambda *a, **k: pytest.fail("recorded an undocumented shape"))
    with pytest.raises(ValidationError):
        publisher.publish("org-1", "clickup.task.status_changed", {"status": "done"})
    with pytest.raises(KeyError):
        publisher.publish("org-1", "clickup.task.renamed", {})
