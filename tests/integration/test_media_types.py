"""Media types and strict types at the portal API's boundary (issue 16, failures 2 and 3).

Failure 2, the kind: one media-type rule for every route that reads a body (bridge.api.resolver
`json_media_type_problem`): `application/json` in any case, with parameters, or any `+json` structured suffix
(RFC 6839), UTF-8 only, is read as JSON; a missing `Content-Type` is read as JSON; every other media type is 415
`unsupported_media_type`; no body is 400 `body_required`. On a7731d8 `text/plain`, `APPLICATION/JSON` and
`application/merge-patch+json` answered 500 and a form or no body 422.

Failure 3, the kind: a field documented as an integer takes integers only, a boolean booleans only, a string strings
only (strict pydantic models); a query flag or count parses only its documented string form (`true`/`false`,
decimal digits). Anything else is a 422 naming the field.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra import definitions as d
from local import openapi
from local.stack import LocalStack
from tests import flows

ACCEPTED = (
    "application/json",
    "APPLICATION/JSON",
    "Application/Json; Charset=UTF-8",
    'application/json; charset="utf-8"',
    "application/merge-patch+json",
    "application/vnd.portal.ticket+JSON; version=2",
    None,  # no Content-Type: read as JSON (RFC 9110 §8.3 lets the recipient examine the data)
)
REFUSED = (
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data",  # without a boundary (a ValueError in Powertools' parser)
    "multipart/form-data; boundary=x",
    "application/xml",
    "text/json",
    "application/jsonp",
    "application/json; charset=iso-8859-1",
    "application/json, text/plain",
    "json",
)


def _body_routes() -> list[tuple[str, str]]:
    document = json.loads(openapi.DOCUMENT.read_text())  # the committed one (drift-tested against the code)
    return [
        (r.method, r.path)
        for r in d.ROUTES
        if r.authorized and "requestBody" in document["paths"][r.path][r.method.lower()]
    ]


BODY_ROUTES = _body_routes()


@pytest.fixture(scope="module")
def world(stack: LocalStack, api: httpx.Client) -> Iterator[dict[str, Any]]:
    with httpx.Client(base_url=stack.emulator.url, timeout=30) as clickup:
        yield flows.connected_org(stack, api, clickup)


def _url(path: str, world: dict[str, Any]) -> str:
    ticket = world["ticket"]
    return path.replace("{customer_id}", "cust-1").replace("{ticket_id}", ticket)


def _send(
    api: httpx.Client, world: dict[str, Any], method: str, path: str, content_type: str | None, body: bytes | None
) -> httpx.Response:
    headers = {**world["auth"]()}
    if content_type is not None:
        headers["content-type"] = content_type
    return api.request(method, _url(path, world), headers=headers, content=body)


def _error(answer: httpx.Response) -> dict[str, Any]:
    body = answer.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return dict(body["error"])


def test_every_body_route_is_covered() -> None:
    assert len(BODY_ROUTES) == 8, BODY_ROUTES  # issue 19: PUT …/clickup-task/link


@pytest.mark.parametrize("content_type", ACCEPTED, ids=lambda c: repr(c))
@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=lambda r: str(r))
def test_a_json_media_type_is_read_as_json(api, world, method: str, path: str, content_type: str | None) -> None:
    """The body is parsed and validated (an unknown field → 422 naming it): never a 500 or a 415."""
    answer = _send(api, world, method, path, content_type, json.dumps({"zz_unknown": 1}).encode())
    assert answer.status_code == 422, (answer.status_code, answer.text[:300])
    assert any(detail["field"] == "zz_unknown" for detail in _error(answer)["details"]), answer.text


@pytest.mark.parametrize("content_type", REFUSED, ids=lambda c: repr(c))
@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=lambda r: str(r))
def test_another_media_type_is_415(api, world, method: str, path: str, content_type: str) -> None:
    body = json.dumps({"zz_unknown": 1}).encode()
    answer = _send(api, world, method, path, content_type, body)
    assert answer.status_code == 415, (answer.status_code, answer.text[:300])
    assert _error(answer)["code"] == "unsupported_media_type"


@pytest.mark.parametrize("content_type", ["application/json", None], ids=repr)
@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=lambda r: str(r))
def test_no_body_is_400_body_required(api, world, method: str, path: str, content_type: str | None) -> None:
    answer = _send(api, world, method, path, content_type, None)
    assert answer.status_code == 400, (answer.status_code, answer.text[:300])
    assert _error(answer)["code"] == "body_required"


def test_a_form_body_is_415_not_parsed_as_a_form(api, world) -> None:
    answer = api.put(
        "/api/v1/clickup/settings", headers=world["auth"](), data={"enabled": "true"}
    )  # httpx sends application/x-www-form-urlencoded
    assert answer.status_code == 415 and _error(answer)["code"] == "unsupported_media_type"


def test_a_merge_patch_body_is_applied(api, world) -> None:
    """`application/merge-patch+json` (RFC 7396) on PATCH: our PATCH already reads absent as unchanged and null
    as cleared, so the body is taken as it is."""
    answer = api.patch(
        f"/api/v1/tickets/{world['ticket']}/clickup-task",
        headers={**world["auth"](), "content-type": "application/merge-patch+json"},
        content=json.dumps({"priority": "high"}).encode(),
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["ticket_id"] == world["ticket"]


def test_a_body_on_a_route_without_one_is_ignored(api, world) -> None:
    """A route that reads no body answers as without it, whatever its media type or bytes."""
    for content_type, raw in (("text/plain", b"hello"), ("application/json", b"\xff\xfe"), (None, b"{")):
        headers = {**world["auth"](), **({"content-type": content_type} if content_type else {})}
        answer = api.request("GET", "/api/v1/me", headers=headers, content=raw)
        assert answer.status_code == 200 and answer.json()["org_id"] == world["org"], answer.text


# -- strict types (failure 3) ------------------------------------------------------------------------------------


def _refused_naming(answer: httpx.Response, field: str) -> None:
    assert answer.status_code == 422, (answer.status_code, answer.text[:300])
    fields = [detail["field"] for detail in _error(answer)["details"]]
    assert field in fields, fields


@pytest.mark.parametrize("value", ["1", True, 1.0, "\uff11", [1]], ids=repr)
def test_an_integer_id_takes_integers_only(api, world, value: Any) -> None:
    answer = api.patch(
        f"/api/v1/tickets/{world['ticket']}/clickup-task", headers=world["auth"](), json={"assignees": [value]}
    )
    _refused_naming(answer, "assignees.0")


@pytest.mark.parametrize("value", ["true", 1, "yes", "on", 1.0], ids=repr)
def test_a_boolean_takes_booleans_only(api, world, value: Any) -> None:
    answer = api.put("/api/v1/clickup/settings", headers=world["auth"](), json={"enabled": value})
    _refused_naming(answer, "enabled")


@pytest.mark.parametrize(
    ("route", "field"),
    [
        ("comment", "text"),
        ("ticket", "title"),
        ("ticket", "customer_id"),
        ("assignment", "space_id"),
        ("workspace", "workspace_id"),
        ("token", "token"),
        ("settings", "time_zone"),
        ("settings", "portal_webhook_url"),
    ],
)
@pytest.mark.parametrize("value", [1, True, 1.5, ["x"], {"a": "b"}], ids=repr)
def test_a_string_takes_strings_only(api, world, route: str, field: str, value: Any) -> None:
    auth = world["auth"]()
    ticket = f"/api/v1/tickets/{world['ticket']}/clickup-task"
    calls = {
        "comment": ("POST", f"{ticket}/comments", {}),
        "ticket": (
            "POST",
            f"/api/v1/tickets/{uuid.uuid4()}/clickup-task",
            {"title": "t", "priority": "low", "customer_id": "cust-1"},
        ),
        "assignment": ("PUT", "/api/v1/customers/cust-2/clickup-space", {"space_id": world["space_id"]}),
        "workspace": ("PUT", "/api/v1/clickup/connection/default-workspace", {}),
        "token": ("PUT", "/api/v1/clickup/connection/personal-token", {}),
        "settings": ("PUT", "/api/v1/clickup/settings", {}),
    }
    method, path, base = calls[route]
    answer = api.request(method, path, headers=auth, json={**base, field: value})
    _refused_naming(answer, field)


def test_a_string_id_is_not_coerced_into_a_number_either(api, world) -> None:
    """A requester's name of 5 (a number) is not "5"; a status of true is not "True"."""
    _refused_naming(
        api.patch(f"/api/v1/tickets/{world['ticket']}/clickup-task", headers=world["auth"](), json={"status": True}),
        "status",
    )
    body = {"title": "t", "priority": "low", "customer_id": "cust-1", "requester": {"name": 5}}
    _refused_naming(
        api.post(f"/api/v1/tickets/{uuid.uuid4()}/clickup-task", headers=world["auth"](), json=body), "requester.name"
    )


@pytest.mark.parametrize("value", ["1", "yes", "True", "on", "t", "0", "FALSE", " true"], ids=repr)
def test_a_query_flag_parses_true_or_false_only(api, world, value: str) -> None:
    answer = api.get("/api/v1/clickup/spaces", headers=world["auth"](), params={"include_archived": value})
    _refused_naming(answer, "query.include_archived")


@pytest.mark.parametrize("value", ["true", "false"])
def test_a_query_flag_in_its_documented_form(api, world, value: str) -> None:
    answer = api.get("/api/v1/clickup/spaces", headers=world["auth"](), params={"include_archived": value})
    assert answer.status_code == 200 and answer.json()["workspace_id"], answer.text


@pytest.mark.parametrize("value", ["1", "yes", "True"], ids=repr)
def test_purge_is_not_set_by_an_undocumented_spelling(stack, api, value: str) -> None:
    """`purge` deletes the ticket links: `?purge=1` must not purge (nor disconnect) anything."""
    headers = {"Authorization": f"Bearer {stack.token(f'org-{uuid.uuid4().hex[:10]}', user='u', role='admin')}"}
    _refused_naming(api.delete("/clickup/oauth/disconnect", headers=headers, params={"purge": value}), "query.purge")
    assert api.delete("/clickup/oauth/disconnect", headers=headers, params={"purge": "true"}).status_code == 204


@pytest.mark.parametrize("value", ["+5", " 5", "5.0", "1_0", "\u0665", "5e0", "0x5"], ids=repr)
def test_a_query_count_parses_decimal_digits_only(api, world, value: str) -> None:
    answer = api.get("/api/v1/clickup/events", headers=world["auth"](), params={"limit": value})
    _refused_naming(answer, "query.limit")


def test_a_query_count_in_its_documented_form(api, world) -> None:
    answer = api.get("/api/v1/clickup/events", headers=world["auth"](), params={"limit": "2"})
    assert answer.status_code == 200 and len(answer.json()["events"]) <= 2, answer.text


# -- the query is strict too (found by the schema fuzzing) -----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/clickup/spaces", {"include_archived": "true", "include_archive": "true"}),
        ("/api/v1/clickup/events", {"limit": "5", "after_cursor": "x"}),
        ("/api/v1/me", {"x": "1"}),
        ("/api/v1/clickup/settings", {"\u00e9\x00": "1"}),
    ],
)
def test_an_undeclared_query_parameter_is_refused(api, world, path: str, params: dict[str, str]) -> None:
    """Found by the fuzzing: unknown query parameters were ignored (a misspelt flag silently did nothing)."""
    answer = api.get(path, headers=world["auth"](), params=params)
    unknown = next(name for name in params if name not in ("include_archived", "limit"))
    _refused_naming(answer, f"query.{unknown}")


def test_a_misspelt_purge_disconnects_nothing(stack, api) -> None:
    headers = {"Authorization": f"Bearer {stack.token(f'org-{uuid.uuid4().hex[:10]}', user='u', role='admin')}"}
    _refused_naming(api.delete("/clickup/oauth/disconnect", headers=headers, params={"purg": "true"}), "query.purg")


def test_the_oauth_callback_ignores_parameters_it_does_not_know(stack, api) -> None:
    """RFC 6749 §4.1.2: the client ignores unrecognized response parameters (ClickUp may add some)."""
    answer = api.get("/clickup/oauth/callback", params={"code": "x", "state": "y", "extra": "1"})
    assert answer.status_code == 302 and "reason=state_invalid" in answer.headers["location"]


def test_a_signed_delivery_with_an_extra_query_parameter_is_taken(stack, api, world) -> None:
    """ClickUp's deliveries are not refused for what the signature does not cover (a refusal counts against the
    webhook's health): the webhook route reads its own query, like the OAuth callback."""
    import hashlib
    import hmac

    with httpx.Client(base_url=stack.emulator.url, timeout=30) as clickup:
        hooks = clickup.get("/_emulator/webhooks").json()["webhooks"]
    hook = next(h for h in hooks if str(h["team_id"]) == str(world["team_id"]))
    raw = json.dumps({"webhook_id": hook["id"], "event": "taskUpdated", "history_items": []}).encode()
    signature = hmac.new(hook["secret"].encode(), raw, hashlib.sha256).hexdigest()
    answer = api.post("/webhooks/clickup", params={"x": "1"}, content=raw, headers={"X-Signature": signature})
    assert answer.status_code == 200, answer.text
