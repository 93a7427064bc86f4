"""ClickUp's OpenAPI document (../shared/clickup/openapi.json) as the judge of what goes over the wire.

Known places where the document is wrong are listed here, each with its source, and skipped explicitly.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote

from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.wrappers import Request, Response

# Statuses ClickUp answers but the document does not list: nothing to validate against (FACTS.md §2, §5).
UNDOCUMENTED_STATUSES = {429, 401, 404, 400, 405, 500, 502, 503, 504}


@cache
def clickup_openapi(server_url: str) -> OpenAPI:
    from tests.conftest import shared_clickup

    spec = json.loads(shared_clickup("openapi.json").read_text())
    spec["servers"] = [{"url": f"{server_url}/api"}]
    # FACTS.md §6: `time_spent` is declared string|null but ClickUp sends an integer.
    _widen(spec, "time_spent", ["string", "integer", "null"])
    # The document's own examples carry null where its schemas say string/object (date_closed, parent,
    # profilePicture, priority, due_date...; see api-samples/create-task.response.json): unset fields are null.
    _allow_null(spec["paths"])
    # `oneOf` with an unconstrained branch ({}) can never validate a value the other branch accepts: the
    # intent is "anything or X", i.e. anyOf.
    _fix_one_of(spec)
    # FACTS.md §4: folders embed their lists as objects (api-samples/get-folders.response.json); the document
    # types folder `lists` items as strings.
    answers = [
        op["responses"]
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "responses" in op
    ]
    _widen_items(answers, "lists", parent_has="override_statuses")
    # Tags are objects {name, tag_fg, tag_bg, creator} in GetTask and the team tasks; other task schemas type
    # them as strings. Priority is an object everywhere but the team tasks schema (integer).
    _widen_items(answers, "tags")
    _widen(spec["paths"]["/v2/team/{team_Id}/task"]["get"]["responses"], "priority", None)
    # FACTS.md §4 and api-samples/get-folders.response.json: `folders` is an array; GetFolders types it object.
    folders = spec["paths"]["/v2/space/{space_id}/folder"]["get"]["responses"]["200"]["content"]
    folders["application/json"]["schema"] = {"type": "object", "properties": {"folders": {"type": "array"}}}
    # FACTS.md §3: UpdateWebhook takes `events` as "*" or a list of names; the document types it string only.
    update = spec["paths"]["/v2/webhook/{webhook_id}"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    update = _resolve(spec, update)
    update["properties"]["events"] = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    # Update Task types `priority` and `due_date` as integers only, while Create Task documents priority as
    # "int 1-4 or null" (FACTS.md, POST /list/{id}/task) and a task renders an unset one as null: null is how a
    # field is cleared (the bridge's PATCH with null; the README's differences table gives both readings).
    body = spec["paths"]["/v2/task/{task_id}"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    body = _resolve(spec, body)
    for name in ("priority", "due_date"):
        body["properties"][name]["type"] = [body["properties"][name]["type"], "null"]
    # Create Task Comment: the document types the answer's `id` as a string; published real answers carry a number
    # (e.g. {"id": 90110164070264, "hist_id": "...", "date": ...}). The emulator answers either (its rendering).
    created = spec["paths"]["/v2/task/{task_id}/comment"]["post"]["responses"]["200"]["content"]["application/json"]
    created["schema"]["properties"]["id"] = {"type": ["string", "integer"]}
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[unquote(part).replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _allow_null(node: Any) -> None:
    if isinstance(node, dict):
        kind = node.get("type")
        if isinstance(kind, str) and kind != "null":
            node["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            kind.append("null")
        for key, value in node.items():
            if key not in ("parameters", "requestBody"):  # only answers: requests stay as strict as written
                _allow_null(value)
    elif isinstance(node, list):
        for value in node:
            _allow_null(value)


def _fix_one_of(node: Any) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("oneOf"), list) and any(branch == {} for branch in node["oneOf"]):
            node["anyOf"] = node.pop("oneOf")
        for value in node.values():
            _fix_one_of(value)
    elif isinstance(node, list):
        for value in node:
            _fix_one_of(value)


def _widen_items(node: Any, name: str, parent_has: str | None = None) -> None:
    if isinstance(node, dict):
        props = node.get("properties")
        if (
            isinstance(props, dict)
            and isinstance(props.get(name), dict)
            and props[name].get("items") is not None
            and (parent_has is None or parent_has in props)
        ):
            props[name]["items"] = {}
        for value in node.values():
            _widen_items(value, name, parent_has)
    elif isinstance(node, list):
        for value in node:
            _widen_items(value, name, parent_has)


def _widen(node: Any, name: str, types: list[str] | None) -> None:
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict) and isinstance(props.get(name), dict):
            props[name] = {"type": types} if types else {}
        for value in node.values():
            _widen(value, name, types)
    elif isinstance(node, list):
        for value in node:
            _widen(value, name, types)


def request_errors(server_url: str, request: Request) -> list[str]:
    openapi = clickup_openapi(server_url)
    return [str(e) for e in openapi.iter_request_errors(WerkzeugOpenAPIRequest(request))]


def response_errors(server_url: str, request: Request, response: Response) -> list[str]:
    if response.status_code in UNDOCUMENTED_STATUSES:
        return []
    if response.status_code == 204:
        return []  # "No Content" with a documented body (DeleteTask): only the status can be checked
    openapi = clickup_openapi(server_url)
    errors = []
    for error in openapi.iter_response_errors(WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response)):
        errors.append(f"{error}: {getattr(error, '__cause__', '')}")
    return errors


@dataclass
class Exchange:
    method: str
    path: str
    status: int
    user_agent: str
    request_errors: list[str]
    response_errors: list[str]


class Recorder:
    """Collects every exchange with the emulator and validates it on the spot."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request, response: Response) -> None:
        if not request.path.startswith("/api/v2/"):
            return
        ua = request.headers.get("User-Agent", "")
        try:
            exchange = Exchange(
                request.method,
                request.path,
                response.status_code,
                ua,
                request_errors(self.server_url, request) if ua.startswith("clickup-bridge/") else [],
                response_errors(self.server_url, request, response),
            )
        except Exception as exc:  # noqa: BLE001 - a validator that cannot run is a failure, never a silent pass
            problem = [f"validation could not run: {type(exc).__name__}: {exc}"]
            exchange = Exchange(request.method, request.path, response.status_code, ua, problem, problem)
        with self._lock:
            self.exchanges.append(exchange)
