"""Portal API: health, identity, hierarchy, customers, tickets and their tasks, the events feed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bridge.api.models import error_responses
from bridge.api.resolver import current_principal, make_resolver
from bridge.connection import service
from bridge.core.config import settings
from bridge.core.errors import NotFound
from bridge.core.health import check_health
from bridge.core.inputs import CLICKUP_ID_PATTERN, PORTAL_ID_PATTERN, ClickUpId, QueryBool, QueryInt
from bridge.core.observability import logger, metrics, tracer
from bridge.events.feed import EventsOut
from bridge.repositories import events as feed
from bridge.sync import customers, views
from bridge.sync.service import request_sync
from bridge.tasks import linking
from bridge.tasks import service as tasks
from bridge.tasks.models import ChangeIn, CommentIn, HistoryOut, TaskLinkOut, TicketIn

settings()  # validate the environment at cold start
app = make_resolver()


class DependencyStatus(BaseModel):
    model_config = ConfigDict(defer_build=True)

    name: str
    status: str
    latency_ms: float
    error: str | None = None


class ConfigurationProblem(BaseModel):
    model_config = ConfigDict(defer_build=True)

    setting: str  # the function's environment variable (or CLICKUP_CLIENT_SECRET: the secret's value)
    problem: str  # missing | placeholder | not_https | unset | unverifiable


class HealthReport(BaseModel):
    model_config = ConfigDict(defer_build=True)

    status: str  # ok | degraded (a dependency is unavailable) | misconfigured (a setting, see configuration)
    version: str
    stage: str
    dependencies: list[DependencyStatus]
    configuration: list[ConfigurationProblem] = Field(default_factory=list)


class Me(BaseModel):
    model_config = ConfigDict(defer_build=True)

    org_id: str
    user_id: str
    role: str


@app.get(
    "/health",
    summary="Health of the bridge and its dependencies",
    responses={
        200: {"description": "Healthy"},
        503: {"description": "A dependency is unavailable, or the deployment is misconfigured (named, never valued)"},
    },
)
def health() -> Response[HealthReport]:
    report = HealthReport.model_validate(check_health())
    return Response(
        status_code=200 if report.status == "ok" else 503,
        content_type=content_types.APPLICATION_JSON,
        body=report.model_dump(exclude_none=True),
    )


@app.get(
    "/docs",
    summary="This API's documentation page (Swagger UI over the OpenAPI document; ?format=json: the document)",
    responses={
        200: {
            "description": "The page (text/html), or with format=json the OpenAPI document",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object", "description": "An OpenAPI 3.1 document"}},
            },
        },
        **error_responses(404),
    },
)
def api_docs(
    format: Annotated[Literal["html", "json"], Query(description="html (the page) or json (the document)")] = "html",
) -> Response[str]:
    if not settings().api_docs_enabled:
        raise NotFound("the API documentation page is switched off in this stage", code="docs_disabled")
    from bridge.api import docs

    if format == "json":
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=docs.document_text())
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=docs.page(),
        headers={"Cache-Control": "public, max-age=300"},
    )


@app.get(
    "/api/v1/me",
    summary="The caller as the bridge sees it (organisation, user, role)",
    responses=error_responses(401, 403),
)
def me() -> Me:
    p = current_principal(app)
    return Me(org_id=p.org_id, user_id=p.user_id, role=p.role)


class StatusOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    status: str
    type: str | None = None
    color: str | None = None
    orderindex: int | None = None


class ListOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    name: str
    statuses: list[StatusOut] = Field(default_factory=list)


class FolderOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    name: str
    lists: list[ListOut] = Field(default_factory=list)


class SpaceOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    name: str
    archived: bool
    folders: list[FolderOut] = Field(default_factory=list)
    lists: list[ListOut] = Field(default_factory=list, description="Folderless lists")


class HierarchyOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    workspace_id: str
    synced_at: str | None
    stale: bool
    spaces: list[SpaceOut]
    sync: Literal["queued", "in_progress"] | None = Field(
        default=None, description="Set when nothing was synced yet: a sync was queued (or is running)"
    )


class MemberOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: int = Field(description="The ClickUp user id (what PATCH ... /clickup-task takes in `assignees`)")
    username: str | None = None
    email: str | None = None
    initials: str | None = None
    role: Literal["owner", "admin", "member", "guest"] | None = Field(
        default=None, description="The workspace role (ClickUp's codes 1-4)"
    )


class MembersOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    workspace_id: str
    synced_at: str | None = Field(description="When ClickUp's GET /team was last read (ISO-8601 UTC)")
    members: list[MemberOut]
    sync: Literal["queued", "in_progress"] | None = Field(
        default=None, description="Set when the members were never read yet: a sync was queued (or is running)"
    )


class FieldOptionOut(BaseModel):
    id: str = Field(description="The option's id (what a drop-down or labels field takes as its value)")
    name: str = Field(description="The option's text (a drop-down option's `name`, a label's `label`)")
    color: str | None = None


class CustomFieldOut(BaseModel):
    id: str = Field(description="The custom field's id: what `field_mapping` maps a portal field to")
    name: str
    type: str = Field(
        description="ClickUp's Custom Field type: url, drop_down, labels, email, phone, date, short_text, text, "
        "checkbox, number, currency, tasks, users, emoji, automatic_progress, manual_progress, location, …"
    )
    options: list[FieldOptionOut] = Field(description="A drop_down's or a labels field's options; else empty")


class ListFieldsOut(BaseModel):
    list_id: str
    workspace_id: str = Field(description="The authorized workspace the list is in")
    fields: list[CustomFieldOut] = Field(description="In ClickUp's order; workspace-scoped fields included")


class SyncOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    state: Literal["queued", "already_queued"]


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)
    space_id: ClickUpId
    list_id: ClickUpId | None = None


class AssignmentOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    customer_id: str
    workspace_id: str
    space_id: str
    list_id: str | None = None
    status: Literal["ok", "broken"]
    broken_reason: str | None = None
    updated_at: str | None = None


CustomerId = Annotated[str, Path(pattern=PORTAL_ID_PATTERN, description="The portal's customer id")]


@app.get(
    "/api/v1/clickup/spaces",
    summary="The synced ClickUp hierarchy (from our store, never ClickUp inline)",
    responses=error_responses(403, 404, 409),
)
def spaces(
    workspace_id: Annotated[str | None, Query(pattern=CLICKUP_ID_PATTERN)] = None,
    include_archived: Annotated[QueryBool, Query(description="true or false")] = False,
) -> HierarchyOut:
    org_id = current_principal(app).org_id
    return HierarchyOut.model_validate(views.tree(org_id, workspace_id, include_archived))


@app.get(
    "/api/v1/clickup/members",
    summary="The members of an authorized ClickUp workspace (for assignee pickers; from our store)",
    responses=error_responses(403, 404, 409),
)
def workspace_members(
    workspace_id: Annotated[
        str | None, Query(pattern=CLICKUP_ID_PATTERN, description="An authorized workspace; by default the default one")
    ] = None,
) -> MembersOut:
    org_id = current_principal(app).org_id
    return MembersOut.model_validate(views.workspace_members(org_id, workspace_id))


ListId = Annotated[str, Path(pattern=CLICKUP_ID_PATTERN, description="A ClickUp list id of the synced hierarchy")]


@app.get(
    "/api/v1/clickup/lists/<list_id>/fields",
    summary="A list's custom fields, read from ClickUp now (for the settings' field mapping)",
    responses=error_responses(403, 404, 409, 422, 429, 503),
)
def list_custom_fields(list_id: ListId) -> ListFieldsOut:
    from bridge.sync import custom_fields

    org_id = current_principal(app).org_id
    found = custom_fields.list_fields(org_id, list_id, remaining_s=_clickup_budget_s)
    return ListFieldsOut.model_validate(found)


def _remaining_s() -> float:
    return app.lambda_context.get_remaining_time_in_millis() / 1000


CLICKUP_RESERVE_S = 5.0  # kept back from a ClickUp read on the portal's behalf: the route still writes and answers


def _clickup_budget_s() -> float:
    """Seconds a ClickUp read made for this request may take, retries included: the invocation's remaining time
    less `CLICKUP_RESERVE_S`, so a ClickUp that does not answer is a 503 `clickup_unavailable` well before the
    function's timeout (a 500 from API Gateway)."""
    return _remaining_s() - CLICKUP_RESERVE_S


@app.post(
    "/api/v1/clickup/sync",
    summary="Sync the hierarchy now (coalesced with a sync already queued)",
    responses={202: {"description": "Queued, or already queued/running"}, **error_responses(403, 409)},
)
def sync_now() -> Response[SyncOut]:
    org_id = current_principal(app).org_id
    service.require_connected(org_id, allow_reauth=False)
    state = "queued" if request_sync(org_id, "on_demand") else "already_queued"
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body={"state": state})


@app.put(
    "/api/v1/customers/<customer_id>/clickup-space",
    summary="Assign a ClickUp space (and list) to a customer",
    responses=error_responses(403, 404, 409, 422),
)
def put_assignment(customer_id: CustomerId, body: AssignmentIn) -> AssignmentOut:
    org_id = current_principal(app).org_id
    return AssignmentOut.model_validate(customers.assign(org_id, customer_id, body.space_id, body.list_id))


@app.get(
    "/api/v1/customers/<customer_id>/clickup-space",
    summary="A customer's ClickUp space",
    responses=error_responses(403, 404, 409),
)
def get_assignment(customer_id: CustomerId) -> AssignmentOut:
    org_id = current_principal(app).org_id
    service.require_enabled(org_id)
    return AssignmentOut.model_validate(customers.view(org_id, customer_id))


@app.delete(
    "/api/v1/customers/<customer_id>/clickup-space",
    summary="Remove a customer's ClickUp space",
    responses={204: {"description": "Removed"}, **error_responses(403, 404, 409)},
)
def delete_assignment(customer_id: CustomerId) -> Response[None]:
    org_id = current_principal(app).org_id
    service.require_enabled(org_id)
    customers.unassign(org_id, customer_id)
    return Response(status_code=204, body="")


TicketId = Annotated[
    str, Path(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
]


def _link(status: int, body: dict[str, Any]) -> Response[TaskLinkOut]:
    payload = TaskLinkOut.model_validate(body).model_dump(mode="json")
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=payload)


@app.post(
    "/api/v1/tickets/<ticket_id>/clickup-task",
    summary="Turn a ticket into a ClickUp task (queued; exactly one task per ticket)",
    responses={
        202: {"description": "Queued"},
        200: {"description": "The ticket already has a task (or one in flight): its link"},
        **error_responses(403, 409, 422),
    },
)
def create_ticket_task(ticket_id: TicketId, body: TicketIn) -> Response[TaskLinkOut]:
    status, link = tasks.request_creation(current_principal(app), ticket_id.lower(), body.model_dump(mode="json"))
    return _link(status, link)


@app.get(
    "/api/v1/tickets/<ticket_id>/clickup-task",
    summary="The ticket's ClickUp task link",
    responses=error_responses(403, 404),
)
def get_ticket_task(ticket_id: TicketId) -> TaskLinkOut:
    org_id = current_principal(app).org_id
    service.require_enabled(org_id)
    return TaskLinkOut.model_validate(tasks.get_view(org_id, ticket_id.lower()))


@app.patch(
    "/api/v1/tickets/<ticket_id>/clickup-task",
    summary="Change the ticket's task (status, priority, due date, assignees); applied in order",
    responses={202: {"description": "Accepted"}, **error_responses(403, 404, 409, 422)},
)
def patch_ticket_task(ticket_id: TicketId, body: ChangeIn) -> Response[TaskLinkOut]:
    changes = body.model_dump(mode="json", exclude_unset=True)
    return _link(202, tasks.request_update(current_principal(app), ticket_id.lower(), changes))


class LinkIn(BaseModel):
    """The task to link: exactly one of `task_id` and `task_url`."""

    model_config = ConfigDict(
        defer_build=True,
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [{"task_id": "86c0vxm2k"}, {"task_url": "https://app.clickup.com/t/9012345678/SUP-42"}]
        },
    )
    task_id: ClickUpId | None = Field(default=None, description="The task's ClickUp id")
    task_url: str | None = Field(
        default=None,
        max_length=300,
        description="A ClickUp task URL: https://app.clickup.com/t/{task_id} or, with custom task ids, "
        "https://app.clickup.com/t/{workspace_id}/{custom_task_id}",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> LinkIn:
        if (self.task_id is None) == (self.task_url is None):
            raise ValueError("give exactly one of task_id and task_url")
        return self


@app.put(
    "/api/v1/tickets/<ticket_id>/clickup-task/link",
    summary="Link the ticket to a ClickUp task that already exists (then synced both ways like a created one)",
    responses={
        201: {"description": "Linked"},
        200: {"description": "Already linked to that task: its link"},
        **error_responses(403, 404, 409, 422, 429, 503),
    },
)
def link_ticket_task(ticket_id: TicketId, body: LinkIn) -> Response[TaskLinkOut]:
    status, link = linking.link(
        current_principal(app), ticket_id.lower(), body.task_id, body.task_url, remaining_s=_clickup_budget_s
    )
    return _link(status, link)


@app.delete(
    "/api/v1/tickets/<ticket_id>/clickup-task",
    summary="Unlink the ticket from its ClickUp task (the task stays in ClickUp; its events stop); idempotent",
    responses={204: {"description": "Unlinked (or had no task)"}, **error_responses(403, 409)},
)
def unlink_ticket_task(ticket_id: TicketId) -> Response[None]:
    linking.unlink(current_principal(app), ticket_id.lower())
    return Response(status_code=204, body="")


@app.post(
    "/api/v1/tickets/<ticket_id>/clickup-task/comments",
    summary="Post a comment on the ticket's task",
    responses={202: {"description": "Accepted"}, **error_responses(403, 404, 409, 422)},
)
def comment_ticket_task(ticket_id: TicketId, body: CommentIn) -> Response[TaskLinkOut]:
    return _link(202, tasks.request_comment(current_principal(app), ticket_id.lower(), body.text))


@app.post(
    "/api/v1/tickets/<ticket_id>/clickup-task/retry",
    summary="Queue a failed creation again",
    responses={202: {"description": "Queued again"}, **error_responses(403, 404, 409)},
)
def retry_ticket_task(ticket_id: TicketId) -> Response[TaskLinkOut]:
    return _link(202, tasks.retry(current_principal(app), ticket_id.lower()))


@app.get(
    "/api/v1/tickets/<ticket_id>/clickup-task/history",
    summary="The audit trail of the ticket's task link (who or what changed it, when, before and after)",
    responses=error_responses(403, 404),
)
def ticket_task_history(ticket_id: TicketId) -> HistoryOut:
    org_id = current_principal(app).org_id
    service.require_enabled(org_id)
    return HistoryOut.model_validate(tasks.history(org_id, ticket_id.lower()))


@app.get(
    "/api/v1/clickup/events",
    summary="The organisation's portal events in order (a pollable feed)",
    responses={
        200: {
            "description": "The events recorded after the cursor, each in the shape of its type (PortalEvent)",
            "content": {"application/json": {"model": EventsOut}},
        },
        **error_responses(403, 422),
    },
)
def events_feed(
    after: Annotated[
        str | None, Query(description="The cursor of the last page read", pattern=feed.CURSOR_PATTERN)
    ] = None,
    limit: Annotated[QueryInt, Query(ge=1, le=500)] = 100,
) -> EventsOut:
    org_id = current_principal(app).org_id
    service.require_enabled(org_id)
    events, cursor = feed.page(org_id, after, limit)
    return EventsOut.model_validate({"events": events, "cursor": cursor})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
