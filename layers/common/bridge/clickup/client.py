"""The only module in the product that talks HTTP to ClickUp.

- one pooled httpx client per container (connection reuse), base URL from `CLICKUP_API_BASE_URL`;
- `Authorization: Bearer <oauth token>`, or the raw value for personal `pk_` tokens;
- every request's timeout is bounded by the Lambda's remaining time, and so is every retry;
- only transient failures are retried (jittered exponential backoff); a POST is retried only when it surely
  never reached ClickUp (connection not established), because ClickUp has no idempotency key;
- `hooks.before_request()` runs before each try (the per-organisation rate limiter), `hooks.after_response()`
  after each answer (learns the limit from the headers);
- errors become the domain exceptions of `bridge.clickup.errors`; no token or secret is ever logged or raised.
"""

from __future__ import annotations

import functools
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from bridge import __version__
from bridge.clickup import models
from bridge.clickup.errors import (
    NOT_AUTHORIZED_CODES,
    REVOKED_CODES,
    MalformedAnswer,
    NotFound,
    Permanent,
    RateLimited,
    TokenRevoked,
    Transient,
    WorkspaceNotAuthorized,
)
from bridge.core.inputs import is_clickup_id, is_token_text
from bridge.core.observability import logger, metrics

if TYPE_CHECKING:
    import httpx  # imported when the first request is made, not at import (cold starts, issue 18)

RATE_LIMITED_METRIC = "ClickUpRateLimited"  # alarmed on (infra/components/monitoring.py: clickup-rate-limited)

DEFAULT_BASE_URL = "https://api.clickup.com/api/v2"
USER_AGENT = f"clickup-bridge/{__version__}"
PAGE_SIZE = 100
COMMENTS_PAGE_SIZE = 25  # Get Task Comments answers the 25 newest, then pages by start/start_id
MAX_REQUEST_TIMEOUT_S = 10.0
SAFETY_MARGIN_S = 1.0  # leave the handler this much time to record the outcome
MIN_ATTEMPT_S = 0.5
HIERARCHY_EVENTS = [
    f"{kind}{what}" for kind in ("list", "folder", "space") for what in ("Created", "Updated", "Deleted")
]
TASK_EVENTS = [
    "taskCreated",
    "taskUpdated",
    "taskDeleted",
    "taskPriorityUpdated",
    "taskStatusUpdated",
    "taskAssigneeUpdated",
    "taskDueDateUpdated",
    "taskTagUpdated",
    "taskMoved",
    "taskCommentPosted",
    "taskCommentUpdated",
]


class RequestHooks(Protocol):
    def before_request(self) -> None:
        """Called before every try; may raise RateLimited to stop the call before it spends budget."""

    def after_response(self, status: int, headers: Mapping[str, str]) -> None:
        """Called with every answer's status and headers (X-RateLimit-*)."""


def base_url() -> str:
    return os.environ.get("CLICKUP_API_BASE_URL", DEFAULT_BASE_URL).rstrip("/")


@cache
def _http() -> httpx.Client:
    import httpx

    # ClickUp's document declares Content-Type as a required header even on GET and DELETE.
    return httpx.Client(
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", "Content-Type": "application/json"},
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    )


def parse_reset(value: str | None) -> float | None:
    """X-RateLimit-Reset as epoch seconds; ClickUp documents "a Unix timestamp": accept seconds or ms."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number / 1000 if number > 1e12 else number


def _seg(value: str | int) -> str:
    """An id as one URL path segment. ClickUp's ids are digits, letters, `_` and `-` (CLICKUP_ID_PATTERN), so one
    that is not (`..`, `a/b`, `%2e`, a space, non-ASCII) cannot name anything at ClickUp: raises NotFound
    without a request, so no id from outside can move the request to another path."""
    text = str(value)
    if not is_clickup_id(text):
        raise NotFound("not a ClickUp id: no request sent", status=404, ecode="")
    return text


def auth_header(token: str) -> str:
    return token if token.startswith("pk_") else f"Bearer {token}"


def _documented_answer(ambiguous: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A ClickUp answer that does not have the shape ClickUp documents (a missing key, another type, a model
    that does not validate) raises `MalformedAnswer`: ClickUp's fault, retried like an outage (503
    `clickup_unavailable` to the portal), never a 500 or a "stored record" error. `ambiguous` for writes: the
    request may have been applied."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def documented(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except (KeyError, TypeError, AttributeError, ValueError) as exc:  # pydantic's ValidationError too
                raise MalformedAnswer(
                    f"ClickUp's answer to {method.__name__} does not have its documented shape ({type(exc).__name__})",
                    ambiguous=ambiguous,
                ) from None

        return documented

    return wrap


class ClickUpClient:
    def __init__(
        self,
        token: str,
        *,
        hooks: RequestHooks | None = None,
        remaining_s: Callable[[], float] | None = None,
        base: str | None = None,
        max_attempts: int = 4,
        backoff_base_s: float = 0.2,
        backoff_cap_s: float = 4.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._auth = auth_header(token)
        self._hooks = hooks
        self._remaining_s = remaining_s or (lambda: 60.0)
        self._base = (base or base_url()).rstrip("/")
        self._max_attempts = max_attempts
        self._backoff_base_s, self._backoff_cap_s = backoff_base_s, backoff_cap_s
        self._sleep, self._jitter = sleep, jitter

    def __repr__(self) -> str:
        return f"ClickUpClient(base={self._base!r})"  # never the token

    @classmethod
    def for_context(cls, token: str, context: Any, hooks: RequestHooks | None = None) -> ClickUpClient:
        return cls(token, hooks=hooks, remaining_s=lambda: context.get_remaining_time_in_millis() / 1000)

    # -- transport ----------------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None) -> Any:
        attempt = 0
        while True:
            attempt += 1
            timeout = min(MAX_REQUEST_TIMEOUT_S, self._remaining_s() - SAFETY_MARGIN_S)
            if timeout < MIN_ATTEMPT_S:
                raise Transient(f"ClickUp {method} {path}: no time left for a try")
            body, error = self._attempt(method, path, params, json, timeout, attempt)
            if error is None:
                return body
            self._sleep(self._retry_delay(method, path, attempt, error))

    def _attempt(
        self, method: str, path: str, params: Mapping[str, Any] | None, json: Any, timeout: float, attempt: int
    ) -> tuple[Any, Transient | None]:
        """One try: (the decoded body, None) on a 2xx/3xx, (None, the error) on a failure worth retrying. Raises a
        failure not worth retrying, and any failure of a non-idempotent call (POST) that may have been applied."""
        import httpx

        idempotent = method.upper() != "POST"
        if self._hooks:
            self._hooks.before_request()
        started = time.perf_counter()
        try:
            response = _http().request(
                method,
                f"{self._base}{path}",
                params=params,
                json=json,
                headers={"Authorization": self._auth},
                timeout=timeout,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            return None, Transient(f"ClickUp {method} {path}: {type(exc).__name__}")
        except httpx.TransportError as exc:
            # Sent, or maybe sent: a non-idempotent call may have been applied.
            error = Transient(f"ClickUp {method} {path}: {type(exc).__name__}", ambiguous=not idempotent)
            if not idempotent:
                raise error from None
            return None, error
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        return self._answered(method, path, response, elapsed_ms, attempt)

    def _answered(
        self, method: str, path: str, response: httpx.Response, elapsed_ms: float, attempt: int
    ) -> tuple[Any, Transient | None]:
        """What ClickUp's answer means: its body, a retryable Transient, or a raised error (see `_attempt`)."""
        if self._hooks:
            self._hooks.after_response(response.status_code, response.headers)
        logger.debug(
            "clickup call",
            extra={
                "method": method,
                "path": path,
                "status": response.status_code,
                "ms": elapsed_ms,
                "attempt": attempt,
            },
        )
        if response.status_code < 400:
            return (response.json() if response.content else {}), None
        if response.status_code == 429:
            # The per-organisation budget should keep every call under ClickUp's limit: each 429 counts.
            metrics.add_metric(name=RATE_LIMITED_METRIC, unit="Count", value=1)
        mapped = self._map_error(method, path, response)
        if not isinstance(mapped, Transient):
            raise mapped
        if method.upper() == "POST":
            mapped.ambiguous = True
            raise mapped
        return None, mapped

    def _retry_delay(self, method: str, path: str, attempt: int, error: Transient) -> float:
        """Seconds to wait before the next try (exponential backoff with jitter); raises `error` when the tries or
        the time left are spent."""
        delay = self._jitter() * min(self._backoff_cap_s, self._backoff_base_s * 2 ** (attempt - 1))
        if attempt >= self._max_attempts or self._remaining_s() - delay - SAFETY_MARGIN_S < MIN_ATTEMPT_S:
            raise error
        logger.info(
            "clickup transient failure, retrying",
            extra={"method": method, "path": path, "attempt": attempt, "status": error.status},
        )
        return delay

    @staticmethod
    def _map_error(method: str, path: str, response: httpx.Response) -> Exception:
        status = response.status_code
        try:
            body = response.json()
            err, ecode = str(body.get("err", "")), str(body.get("ECODE", ""))
        except ValueError:
            err, ecode = "", ""
        message = f"ClickUp {method} {path} answered {status} {ecode}".rstrip()
        if status == 429:
            reset = parse_reset(response.headers.get("X-RateLimit-Reset"))
            return RateLimited(message, reset_at=reset if reset is not None else time.time() + 60)
        if status == 401 and ecode in REVOKED_CODES:
            return TokenRevoked(message, status=status, ecode=ecode, detail=err)
        if status == 401 and ecode in NOT_AUTHORIZED_CODES:
            return WorkspaceNotAuthorized(message, status=status, ecode=ecode, detail=err)
        if status == 404:
            return NotFound(message, status=status, ecode=ecode, detail=err)
        if status >= 500 or status == 408:
            return Transient(message, status=status, ecode=ecode)
        return Permanent(message, status=status, ecode=ecode, detail=err)

    def _get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None} or None)

    # -- user and workspaces -------------------------------------------------------------------------------
    @_documented_answer()
    def get_user(self) -> models.User:
        return models.User.model_validate(self._get("/user")["user"])

    @_documented_answer()
    def get_teams(self) -> list[models.Team]:
        return [models.Team.model_validate(t) for t in self._get("/team")["teams"]]

    # -- hierarchy ---------------------------------------------------------------------------------------------
    # ClickUp's reference leaves open what `archived=true` selects (archived items only, or archived items too:
    # developer.clickup.com/reference/getspaces, getfolders, getfolderlesslists, getlists); the space sync
    # (`bridge.sync.service`) is right under both readings. `archived=false` gives the active items.
    @_documented_answer()
    def get_spaces(self, team_id: str, archived: bool = False) -> list[models.Space]:
        """`GET /team/{team_id}/space?archived=`: the workspace's spaces."""
        data = self._get(f"/team/{_seg(team_id)}/space", archived=str(archived).lower())
        return [models.Space.model_validate(s) for s in data["spaces"]]

    @_documented_answer()
    def get_space(self, space_id: str) -> models.Space:
        """`GET /space/{space_id}`: one space (its `archived` is not in the reference's schema of this answer)."""
        return models.Space.model_validate(self._get(f"/space/{_seg(space_id)}"))

    @_documented_answer()
    def get_folders(self, space_id: str, archived: bool = False) -> list[models.Folder]:
        """`GET /space/{space_id}/folder?archived=`: the space's folders, their lists embedded."""
        data = self._get(f"/space/{_seg(space_id)}/folder", archived=str(archived).lower())
        return [models.Folder.model_validate(f) for f in data["folders"]]

    @_documented_answer()
    def get_folder_lists(self, folder_id: str, archived: bool = False) -> list[models.ListItem]:
        """`GET /folder/{folder_id}/list?archived=`: the lists of one folder."""
        data = self._get(f"/folder/{_seg(folder_id)}/list", archived=str(archived).lower())
        return [models.ListItem.model_validate(x) for x in data["lists"]]

    @_documented_answer()
    def get_folderless_lists(self, space_id: str, archived: bool = False) -> list[models.ListItem]:
        """`GET /space/{space_id}/list?archived=`: the space's lists that are in no folder."""
        data = self._get(f"/space/{_seg(space_id)}/list", archived=str(archived).lower())
        return [models.ListItem.model_validate(x) for x in data["lists"]]

    @_documented_answer()
    def get_list(self, list_id: str) -> models.ListItem:
        return models.ListItem.model_validate(self._get(f"/list/{_seg(list_id)}"))

    @_documented_answer()
    def get_list_fields(self, list_id: str) -> list[models.CustomField]:
        return [models.CustomField.model_validate(f) for f in self._get(f"/list/{_seg(list_id)}/field")["fields"]]

    # -- tasks ----------------------------------------------------------------------------------------------
    @_documented_answer(ambiguous=True)
    def create_task(self, list_id: str, body: Mapping[str, Any]) -> models.Task:
        return models.Task.model_validate(self.request("POST", f"/list/{_seg(list_id)}/task", json=dict(body)))

    @_documented_answer()
    def get_task(self, task_id: str, *, custom_in_team: str | None = None) -> models.Task:
        """Get Task (`GET /task/{task_id}`). `custom_in_team`: `task_id` is a custom task id of that workspace
        (`?custom_task_ids=true&team_id=…`, ClickUp's Get Task doc: the team_id is then required)."""
        if custom_in_team is None:
            return models.Task.model_validate(self._get(f"/task/{_seg(task_id)}"))
        found = self._get(f"/task/{_seg(task_id)}", custom_task_ids="true", team_id=custom_in_team)
        return models.Task.model_validate(found)

    @_documented_answer(ambiguous=True)
    def update_task(self, task_id: str, changes: Mapping[str, Any]) -> models.Task:
        return models.Task.model_validate(self.request("PUT", f"/task/{_seg(task_id)}", json=dict(changes)))

    def delete_task(self, task_id: str) -> None:
        self.request("DELETE", f"/task/{_seg(task_id)}")

    def set_custom_field(self, task_id: str, field_id: str, value: Any) -> None:
        self.request("POST", f"/task/{_seg(task_id)}/field/{_seg(field_id)}", json={"value": value})

    @_documented_answer(ambiguous=True)
    def add_comment(self, task_id: str, text: str, notify_all: bool = False) -> tuple[str, int]:
        """(the new comment's id, its date in ms). ClickUp's reference types `id` as a string; real answers carry
        a number (e.g. `{"id": 90110164070264, "hist_id": "…", "date": 1755803061841}`): both read as a string.
        A missing date reads as now."""
        data = self.request(
            "POST", f"/task/{_seg(task_id)}/comment", json={"comment_text": text, "notify_all": notify_all}
        )
        try:
            date_ms = int(data.get("date") or 0) or int(time.time() * 1000)
        except (TypeError, ValueError):
            date_ms = int(time.time() * 1000)
        return str(data.get("id", "")), date_ms

    @_documented_answer()
    def get_comments(self, task_id: str) -> list[dict[str, Any]]:
        """The task's newest comments (ClickUp answers up to 25, newest first)."""
        return list(self._get(f"/task/{_seg(task_id)}/comment").get("comments") or [])

    def iter_comments(self, task_id: str, since_ms: int = 0) -> Iterator[dict[str, Any]]:
        """The task's comments, newest first, back to the first one dated before `since_ms` (ms): pages of 25, the
        next one from the last comment's `date` and `id` (Get Task Comments, `start` + `start_id`; the reference
        links developer.clickup.com/docs/task-comments-pagination)."""
        params: dict[str, Any] = {}
        while True:
            page = list(self._get(f"/task/{_seg(task_id)}/comment", **params).get("comments") or [])
            yield from page
            if len(page) < COMMENTS_PAGE_SIZE:
                return
            last = page[-1]
            date_ms = int(last.get("date") or 0)
            if date_ms < since_ms:
                return
            params = {"start": date_ms, "start_id": str(last.get("id"))}

    def iter_task_pages(self, path: str, **filters: Any) -> Iterator[tuple[int, list[models.Task]]]:
        """Pages of tasks (0-based, 100 a page) until `last_page` or a short page."""
        page = int(filters.pop("page", 0))
        params = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in filters.items() if v is not None}
        while True:
            data = models.TaskPage.model_validate(self._get(path, page=page, **params))
            yield page, list(data.tasks)
            if data.last_page or len(data.tasks) < PAGE_SIZE:
                return
            page += 1

    def iter_list_tasks(self, list_id: str, **filters: Any) -> Iterator[models.Task]:
        for _, tasks in self.iter_task_pages(f"/list/{_seg(list_id)}/task", **filters):
            yield from tasks

    def iter_team_task_pages(self, team_id: str, **filters: Any) -> Iterator[tuple[int, list[models.Task]]]:
        return self.iter_task_pages(f"/team/{_seg(team_id)}/task", **filters)

    # -- webhooks ---------------------------------------------------------------------------------------------
    @_documented_answer(ambiguous=True)
    def create_webhook(self, team_id: str, endpoint: str, events: list[str], **location: str | int) -> models.Webhook:
        body: dict[str, Any] = {"endpoint": endpoint, "events": events}
        body.update({k: int(v) if k != "task_id" else v for k, v in location.items() if v})
        return models.Webhook.model_validate(
            self.request("POST", f"/team/{_seg(team_id)}/webhook", json=body)["webhook"]
        )

    @_documented_answer()
    def get_webhooks(self, team_id: str) -> list[models.Webhook]:
        return [models.Webhook.model_validate(w) for w in self._get(f"/team/{_seg(team_id)}/webhook")["webhooks"]]

    @_documented_answer(ambiguous=True)
    def update_webhook(
        self, webhook_id: str, endpoint: str, events: list[str] | str, status: str = "active"
    ) -> models.Webhook:
        body = {"endpoint": endpoint, "events": events, "status": status}
        return models.Webhook.model_validate(self.request("PUT", f"/webhook/{_seg(webhook_id)}", json=body)["webhook"])

    def delete_webhook(self, webhook_id: str) -> None:
        self.request("DELETE", f"/webhook/{_seg(webhook_id)}")


def exchange_code(
    client_id: str, client_secret: str, code: str, *, base: str | None = None, timeout_s: float = 10.0
) -> str:
    """OAuth code → access token (no auth header). Credentials travel in the JSON body, never the URL."""
    import httpx

    url = f"{(base or base_url()).rstrip('/')}/oauth/token"
    try:
        response = _http().post(
            url, json={"client_id": client_id, "client_secret": client_secret, "code": code}, timeout=timeout_s
        )
    except httpx.TransportError as exc:
        raise Transient(f"ClickUp POST /oauth/token: {type(exc).__name__}") from None
    if response.status_code >= 400:
        raise ClickUpClient._map_error("POST", "/oauth/token", response)
    token = response.json().get("access_token")
    if not is_token_text(token, max_chars=4096):  # it becomes a header value: visible ASCII only
        raise Permanent("ClickUp POST /oauth/token answered without an access_token", status=response.status_code)
    return token
