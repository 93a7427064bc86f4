"""Hostile values on the whole surface that arrives from outside (issue 14, failure 2 and its kind).

Every value that ends in a comparison, a header, a URL path or a DynamoDB key (webhook signatures and ids, pasted
personal tokens, OAuth `state`, `code` and `return_to`, ids in paths, queries and bodies, the events cursor, JWT
claims) may hold any Unicode or control character. Each route and each hostile value must get a 4xx with the JSON
error shape and a stable code (the OAuth callback: a 302 with a stable `reason`), never a 5xx. Values are sent
over HTTP as a client can send them, and straight into the functions as API Gateway events (lone surrogates in
headers, queries and paths, which no HTTP client can send but an event may carry).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import httpx
import pytest

from infra import definitions as d
from local.stack import LocalStack
from tests import flows

# What a careless or hostile client sends. Each is a str; `_pct` and `_json` below turn it into what travels.
HOSTILE: dict[str, str] = {
    "empty": "",
    "nul": "a\x00b",
    "crlf": "a\r\nX-Injected: 1",
    "lone_surrogate": "\ud800abc",
    "low_surrogate": "abc\udc00",
    "rtl_override": "\u202eabc",
    "zero_width": "ab\u200bc",
    "accented_64": "é" * 64,
    "emoji": "\U0001f600",
    "very_long": "x" * 5000,
    "traversal": "../../team/1",
    "dot_dot": "..",
    "padded": " abc ",
    "percent": "%2e%2e%2f",
    "tab": "a\tb",
}
IDS = list(HOSTILE)
VISIBLE_ASCII = ("empty", "traversal", "dot_dot", "percent")  # hostile as ids, but fine as URL text or tokens
UNICODE_TEXT = ("accented_64", "emoji")  # valid Unicode: an identity claim may be exactly this
# A JSON body string: escaped, so a lone surrogate travels as `"\ud800"` (as a careless client's JSON would).


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def _pct(value: str) -> str:
    """Percent-encoded UTF-8 for a URL; a lone surrogate is sent as the bytes Python's surrogatepass gives
    (invalid UTF-8, as a broken client would send)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _refused(answer: httpx.Response, codes: set[str]) -> str:
    """A 4xx with the JSON error shape and one of `codes`; returns the code."""
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) <= {"code", "message", "details"}, body
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["code"] in codes, body
    return str(body["error"]["code"])


def _sign(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


@pytest.fixture(scope="module")
def world(stack: LocalStack, api: httpx.Client) -> Iterator[dict[str, Any]]:
    """One organisation connected (personal token), synced, a customer assigned, a ticket accepted."""
    org = f"org-{uuid.uuid4().hex[:10]}"

    def auth(role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {stack.token(org, user='user-1', role=role)}"}

    with httpx.Client(base_url=stack.emulator.url, timeout=30) as clickup:
        tag = uuid.uuid4().hex[:6]
        user = clickup.post("/_emulator/users", json={"username": f"H {tag}", "email": f"h{tag}@example.com"}).json()
        seeded = clickup.post(
            "/_emulator/seed",
            json={
                "user_id": user["id"],
                "workspace": {"name": f"H {tag}", "spaces": [{"name": "S", "lists": [{"name": "Inbox"}]}]},
            },
        ).json()
        token = clickup.post(f"/_emulator/users/{user['id']}/tokens").json()["token"]
        flows.connect_with_token(api, auth(), token)
        space = seeded["spaces"][0]
        list_id = space["lists"][0]["id"]
        body = {"space_id": space["id"], "list_id": list_id}
        assert api.put("/api/v1/customers/cust-1/clickup-space", headers=auth(), json=body).status_code == 200
        ticket = str(uuid.uuid4())
        ticket_body = {"title": "t", "priority": "normal", "customer_id": "cust-1"}
        assert api.post(f"/api/v1/tickets/{ticket}/clickup-task", headers=auth(), json=ticket_body).status_code == 202
        hooks = clickup.get("/_emulator/webhooks").json()["webhooks"]
        hook = next(h for h in hooks if str(h["team_id"]) == str(seeded["team_id"]))
        yield {
            "org": org,
            "auth": auth,
            "team_id": seeded["team_id"],
            "space_id": space["id"],
            "list_id": list_id,
            "ticket": ticket,
            "hook": hook,
            "clickup": clickup,
        }


# -- ClickUp's webhook deliveries ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", IDS)
def test_a_hostile_signature_is_401_invalid_signature(api, world, name: str) -> None:
    """Failure 2: `X-Signature: éééé…` on a delivery naming a known webhook was a 500 (str compare_digest raised)."""
    raw = json.dumps({"webhook_id": world["hook"]["id"], "event": "taskUpdated", "history_items": []}).encode()
    # HTTP cannot carry control characters in a header (h11 refuses them): they are sent as events further down
    value = bytes(b for b in HOSTILE[name].encode("utf-8", "surrogatepass") if b >= 0x20 and b != 0x7F).strip()
    answer = api.post("/webhooks/clickup", content=raw, headers=[(b"X-Signature", value)])
    expected = "missing_signature" if not value.strip() else "invalid_signature"
    assert answer.status_code == 401 and _refused(answer, {expected}) == expected


def test_the_issues_input_exactly(api, world) -> None:
    raw = json.dumps({"webhook_id": world["hook"]["id"], "event": "taskUpdated", "history_items": []}).encode()
    answer = api.post("/webhooks/clickup", content=raw, headers=[(b"X-Signature", ("é" * 64).encode("utf-8"))])
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "invalid_signature"
    # and the genuine signature of the same bytes still passes
    genuine = api.post("/webhooks/clickup", content=raw, headers={"X-Signature": _sign(world["hook"]["secret"], raw)})
    assert genuine.status_code == 200, genuine.text


@pytest.mark.parametrize("name", IDS)
def test_a_hostile_webhook_id_is_401_unknown_webhook(api, world, name: str) -> None:
    raw = _json({"webhook_id": HOSTILE[name], "event": "taskUpdated"})
    answer = api.post("/webhooks/clickup", content=raw, headers={"X-Signature": "0" * 64})
    assert answer.status_code == 401 and _refused(answer, {"unknown_webhook"})


# -- credentials and OAuth ------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "pk_12345678_"])
@pytest.mark.parametrize("name", IDS)
def test_a_hostile_personal_token_is_422_token_malformed(api, world, name: str, prefix: str) -> None:
    value = prefix + HOSTILE[name]
    headers = {**world["auth"](), "content-type": "application/json"}
    answer = api.put("/api/v1/clickup/connection/personal-token", headers=headers, content=_json({"token": value}))
    codes = {"token_malformed", "invalid_body"}
    if prefix and name in ("empty", "traversal", "dot_dot", "percent"):  # visible ASCII: only ClickUp can refuse it
        codes = {"token_invalid"}
    _refused(answer, codes)


@pytest.mark.parametrize("name", IDS)
def test_a_hostile_return_to_is_refused(stack, api, world, name: str) -> None:
    answer = api.get(f"/clickup/oauth/connect?return_to={_pct(HOSTILE[name])}", headers=world["auth"]())
    _refused(answer, {"return_to_not_allowed", "validation_error"})  # validation_error: over 2,048 characters
    # on an allowed origin: a URL is visible ASCII (a browser percent-encodes the rest) and at most 2,048 characters
    on_origin = f"{stack.api_url}/_local/portal?x={HOSTILE[name]}"
    answer = api.get(f"/clickup/oauth/connect?return_to={_pct(on_origin)}", headers=world["auth"]())
    if name in VISIBLE_ASCII:
        assert answer.status_code == 200, answer.text
    else:
        _refused(answer, {"return_to_not_allowed", "validation_error"})


def _callback(api: httpx.Client, query: str) -> dict[str, list[str]]:
    answer = api.get(f"/clickup/oauth/callback?{query}")
    assert answer.status_code == 302, (answer.status_code, answer.text[:300])
    location = answer.headers["location"]
    return {"_location": [location], **parse_qs(urlparse(location).query)}


@pytest.mark.parametrize("name", IDS)
def test_a_hostile_state_lands_on_state_invalid(stack, api, name: str) -> None:
    result = _callback(api, f"code=abc&state={_pct(HOSTILE[name])}")
    assert result["clickup"] == ["error"] and result["reason"] == ["state_invalid"]
    assert result["_location"][0].startswith(stack.api_url)


@pytest.mark.parametrize("name", IDS)
def test_a_hostile_code_lands_on_a_stable_reason_without_a_5xx(stack, api, world, name: str) -> None:
    started = flows.start(api, world["auth"](), flows.portal_url(stack, world["org"]))
    state = parse_qs(urlparse(started.json()["authorize_url"]).query)["state"][0]
    result = _callback(api, f"state={state}&code={_pct(HOSTILE[name])}")
    assert result["clickup"] == ["error"]
    expected = {"empty": "code_missing", "traversal": "exchange_failed", "dot_dot": "exchange_failed"}
    expected["percent"] = "exchange_failed"  # visible ASCII: ClickUp refuses it (OAUTH_015 at the emulator)
    assert result["reason"] == [expected.get(name, "code_invalid")]


# -- ids in paths, queries and bodies ----------------------------------------------------------------------


def _path_cases(world: dict[str, Any]) -> list[tuple[str, str, bytes | None]]:
    t = world["ticket"]
    return [
        ("PUT", "/api/v1/customers/{}/clickup-space", _json({"space_id": world["space_id"]})),
        ("GET", "/api/v1/customers/{}/clickup-space", None),
        ("DELETE", "/api/v1/customers/{}/clickup-space", None),
        ("POST", "/api/v1/tickets/{}/clickup-task", _json({"title": "t", "priority": "low", "customer_id": "c"})),
        ("GET", "/api/v1/tickets/{}/clickup-task", None),
        ("PATCH", "/api/v1/tickets/{}/clickup-task", _json({"priority": "low"})),
        ("POST", "/api/v1/tickets/{}/clickup-task/comments", _json({"text": "hi"})),
        ("POST", "/api/v1/tickets/{}/clickup-task/retry", None),
        ("GET", "/api/v1/tickets/{}/clickup-task/history", None),
        ("PUT", "/api/v1/tickets/{}/clickup-task/link", _json({"task_id": "abc"})),
        ("DELETE", "/api/v1/tickets/{}/clickup-task", None),
        ("GET", "/api/v1/clickup/lists/{}/fields", None),
        ("GET", f"/api/v1/tickets/{t}/clickup-task{{}}", None),  # a suffix on a real route
    ]


@pytest.mark.parametrize("name", IDS)
def test_hostile_ids_in_paths(api, world, name: str) -> None:
    value = HOSTILE[name]
    for method, template, body in _path_cases(world):
        if name == "empty" and template.endswith("{}"):
            continue  # an empty suffix is the real route
        path = template.format(_pct(value))
        headers = {**world["auth"](), "content-type": "application/json"}
        answer = api.request(method, path, headers=headers, content=body)
        if answer.status_code == 404 and answer.json() == {"message": "Not Found"}:
            continue  # API Gateway's own answer: no route has that path (an empty or `/`-holding segment)
        _refused(answer, {"validation_error"})


@pytest.mark.parametrize("name", IDS)
def test_hostile_query_values(api, world, name: str) -> None:
    value = _pct(HOSTILE[name])
    auth = world["auth"]()
    for path, param in [
        ("/api/v1/clickup/spaces", "workspace_id"),
        ("/api/v1/clickup/spaces", "include_archived"),
        ("/api/v1/clickup/members", "workspace_id"),
        ("/docs", "format"),
        ("/api/v1/clickup/events", "after"),
        ("/api/v1/clickup/events", "limit"),
    ]:
        answer = api.get(f"{path}?{param}={value}", headers=auth)
        if name == "empty" and param in ("workspace_id", "format"):
            # `?workspace_id=` is the parameter left empty: the default workspace, as documented
            assert answer.status_code in (200, 422), answer.text
            continue
        _refused(answer, {"validation_error"})
    answer = api.delete(f"/clickup/oauth/disconnect?purge={value}", headers=auth)
    _refused(answer, {"validation_error"})


def _body_cases(world: dict[str, Any], v: str) -> list[tuple[str, str, Any, set[str]]]:
    s, lst = world["space_id"], world["list_id"]
    ids = {"validation_error", "invalid_body"}
    return [
        ("PUT", "/api/v1/clickup/connection/default-workspace", {"workspace_id": v}, ids),
        ("PUT", "/api/v1/customers/cust-2/clickup-space", {"space_id": v}, ids),
        ("PUT", "/api/v1/customers/cust-2/clickup-space", {"space_id": s, "list_id": v}, ids),
        (
            "POST",
            f"/api/v1/tickets/{uuid.uuid4()}/clickup-task",
            {"title": "t", "priority": "low", "customer_id": v},
            ids,
        ),
        ("PUT", "/api/v1/clickup/settings", {"status_mapping": {v: {"open": "to do"}}}, ids),
        ("PUT", "/api/v1/clickup/settings", {"space_default_lists": {v: lst}}, ids),
        ("PUT", "/api/v1/clickup/settings", {"space_default_lists": {s: v}}, ids),
        ("PUT", "/api/v1/clickup/settings", {"field_mapping": {"severity": v}}, ids | {"field_mapping_empty"}),
        ("PUT", "/api/v1/clickup/settings", {"return_to_allow_list": [v]}, ids),
        ("PUT", "/api/v1/clickup/settings", {"time_zone": v}, ids),
        ("PUT", "/api/v1/clickup/settings", {"portal_webhook_url": f"https://{v}/x"}, ids),
        ("PATCH", f"/api/v1/tickets/{world['ticket']}/clickup-task", {"status": v}, ids | {"status_not_mapped"}),
        ("PUT", f"/api/v1/tickets/{uuid.uuid4()}/clickup-task/link", {"task_id": v}, ids | {"task_not_found"}),
        (
            "PUT",
            f"/api/v1/tickets/{uuid.uuid4()}/clickup-task/link",
            {"task_url": v},
            ids | {"task_url_invalid", "task_not_found"},
        ),
        (
            "PUT",
            f"/api/v1/tickets/{uuid.uuid4()}/clickup-task/link",
            {"task_url": f"https://app.clickup.com/t/{v}"},
            ids | {"task_url_invalid", "task_not_found"},  # a value that is a well-formed id: ClickUp knows no task
        ),
    ]


@pytest.mark.parametrize("name", IDS)
def test_hostile_ids_in_bodies(api, world, name: str) -> None:
    headers = {**world["auth"](), "content-type": "application/json"}
    for method, path, body, codes in _body_cases(world, HOSTILE[name]):
        answer = api.request(method, path, headers=headers, content=_json(body))
        if name in VISIBLE_ASCII and "portal_webhook_url" in body:
            assert answer.status_code in (200, 422), answer.text  # a URL's text; where it points: issue 16
            continue
        _refused(answer, codes)
    # the settings stayed readable and the organisation connected: nothing hostile was stored
    assert api.get("/api/v1/clickup/settings", headers=headers).status_code == 200
    assert api.get("/api/v1/clickup/connection", headers=headers).json()["status"] == "connected"


@pytest.mark.parametrize("value", [10**40, 2**63, 2**53, -1, 0, 1.5])
def test_a_user_id_that_cannot_be_clickups_is_422(api, world, value: Any) -> None:
    """Assignees are ClickUp user ids (positive integers a JSON number holds exactly); a number DynamoDB cannot
    store (over 38 digits) or ClickUp cannot have issued is refused before anything is stored."""
    headers = {**world["auth"](), "content-type": "application/json"}
    path = f"/api/v1/tickets/{world['ticket']}/clickup-task"
    answer = api.patch(path, headers=headers, content=_json({"assignees": [value]}))
    _refused(answer, {"validation_error"})
    assert api.get(f"{path}/history", headers=headers).status_code == 200  # the link still reads


def test_a_lone_surrogate_anywhere_in_a_body_is_400_invalid_body(api, world) -> None:
    headers = {**world["auth"](), "content-type": "application/json"}
    ticket = str(uuid.uuid4())
    for body in (
        {"title": "a\ud800", "priority": "low", "customer_id": "cust-1"},
        {"title": "t", "priority": "low", "customer_id": "cust-1", "tags": ["\udfff"]},
        {"title": "t", "priority": "low", "customer_id": "cust-1", "fields": {"\ud800": 1}},
    ):
        answer = api.post(f"/api/v1/tickets/{ticket}/clickup-task", headers=headers, content=_json(body))
        assert answer.status_code == 400 and _refused(answer, {"invalid_body"})
    # a surrogate pair is Unicode (an emoji): accepted
    body = {"title": "t \U0001f600", "priority": "low", "customer_id": "cust-1"}
    assert api.post(f"/api/v1/tickets/{ticket}/clickup-task", headers=headers, content=_json(body)).status_code == 202


def test_a_member_name_repeated_in_one_object_is_400_invalid_body(api, world) -> None:
    """RFC 8259 leaves a repeated name's meaning to the parser; I-JSON (RFC 7493 §2.3) forbids it: refused on every
    body route, at any depth, before anything is read (neither `low` nor `urgent` is acted on)."""
    headers = {**world["auth"](), "content-type": "application/json"}
    ticket = str(uuid.uuid4())
    path = f"/api/v1/tickets/{ticket}/clickup-task"
    for method, route, raw in (
        ("POST", path, '{"title": "t", "priority": "low", "priority": "urgent", "customer_id": "cust-1"}'),
        ("POST", path, '{"title": "t", "priority": "low", "customer_id": "cust-1", "fields": {"a": 1, "a": 2}}'),
        ("PUT", "/api/v1/clickup/settings", '{"enabled": true, "enabled": false}'),
        ("PUT", "/api/v1/customers/cust-1/clickup-space", '{"space_id": "1", "space_id": "2"}'),
    ):
        answer = api.request(method, route, headers=headers, content=raw.encode())
        assert answer.status_code == 400 and _refused(answer, {"invalid_body"}), (route, answer.text)
    assert api.get(path, headers=headers).status_code == 404  # nothing was accepted
    # the same names in different objects are not repeats
    fine = '{"title": "t", "priority": "low", "customer_id": "cust-1", "fields": {"priority": "x"}}'
    answer = api.post(path, headers=headers, content=fine.encode())
    assert answer.status_code in (202, 422), answer.text
    assert answer.json().get("error", {}).get("code") != "invalid_body"


# A ticket's `fields` values: what a ClickUp custom field can take and DynamoDB can store exactly (issue 16 kind:
# bad input never a 5xx, never a silent change). Each was a 500 (decimal.Inexact / Underflow, "Empty attribute name",
# "Item size has exceeded") or reached ClickUp as a Python rendering ("True", "['x', 'y']", "None" for NaN).
REFUSED_FIELD_VALUES = {
    "int_over_38_digits": "12345678901234567890123456789012345678901234567890",
    "negative_int_over_38_digits": "-12345678901234567890123456789012345678901",
    "float_under_1e-130": "1.5e-200",
    "float_over_1e126": "1.5e200",
    "object": '{"": "x"}',
    "nested_object": '{"a": {"b": 1}}',
    "list_of_numbers": "[1, 2]",
    "list_with_an_empty_label": '["a", ""]',
    "text_over_10000": '"' + "x" * 10_001 + '"',
    "too_many_labels": "[" + ", ".join(f'"l{i}"' for i in range(51)) + "]",
}


@pytest.mark.parametrize("name", sorted(REFUSED_FIELD_VALUES))
def test_a_field_value_no_clickup_field_takes_is_422_before_anything_is_stored(api, world, name: str) -> None:
    headers = {**world["auth"](), "content-type": "application/json"}
    path = f"/api/v1/tickets/{uuid.uuid4()}/clickup-task"
    raw = '{"title": "t", "priority": "low", "customer_id": "cust-1", "fields": {"tier": %s}}'
    answer = api.post(path, headers=headers, content=(raw % REFUSED_FIELD_VALUES[name]).encode())
    assert answer.status_code == 422 and _refused(answer, {"field_value_invalid"}), answer.text[:300]
    assert len(answer.text) < 2_000  # the error names the field, it does not echo the value back
    assert api.get(path, headers=headers).status_code == 404  # nothing accepted


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(api, world, constant: str) -> None:
    """RFC 8259 §6: not permitted, though Python's json module reads them (a NaN reached ClickUp as "None")."""
    headers = {**world["auth"](), "content-type": "application/json"}
    path = f"/api/v1/tickets/{uuid.uuid4()}/clickup-task"
    raw = '{"title": "t", "priority": "low", "customer_id": "cust-1", "fields": {"tier": CONSTANT}}'.replace(
        "CONSTANT", constant
    )
    answer = api.post(path, headers=headers, content=raw.encode())
    assert answer.status_code == 400 and _refused(answer, {"invalid_json"}), answer.text
    link = api.put(f"{path}/link", headers=headers, content=f'{{"task_id": {constant}}}'.encode())
    assert link.status_code == 400 and _refused(link, {"invalid_json"}), link.text


def test_a_clickup_delivery_with_a_repeated_name_or_nan_is_400_before_it_is_queued(api, world) -> None:
    """A signed delivery two readers could read differently (`task_id` twice: which task?) is refused as any
    body is; ClickUp never sends one (its payloads are JSON)."""
    hook = world["hook"]
    for raw, code in (
        (
            '{"webhook_id": "%s", "event": "taskStatusUpdated", "task_id": "A", "task_id": "B", "history_items": []}',
            "invalid_body",
        ),
        ('{"webhook_id": "%s", "event": "taskStatusUpdated", "task_id": NaN, "history_items": []}', "invalid_json"),
    ):
        body = (raw % hook["id"]).encode()
        answer = api.post("/webhooks/clickup", content=body, headers={"X-Signature": _sign(hook["secret"], body)})
        assert answer.status_code == 400 and _refused(answer, {code}) == code, answer.text


# -- identities (JWT claims) ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", IDS)
def test_hostile_claims_are_403(stack, api, name: str) -> None:
    value = HOSTILE[name]
    org_token = stack.token(value, user="user-1")
    answer = api.get("/api/v1/clickup/connection", headers={"Authorization": f"Bearer {org_token}"})
    expected = "missing_org_claim" if name == "empty" else "invalid_org_claim"
    if name in ("traversal", "dot_dot", "percent", *UNICODE_TEXT):  # served as exactly that organisation
        assert answer.status_code == 200 and answer.json()["status"] == "not_connected"
    else:
        assert answer.status_code == 403 and _refused(answer, {expected}) == expected
    sub_token = stack.token(f"org-{uuid.uuid4().hex[:8]}", user=value)
    answer = api.get("/api/v1/me", headers={"Authorization": f"Bearer {sub_token}"})
    if name in (*VISIBLE_ASCII, *UNICODE_TEXT):
        assert answer.status_code == 200 and answer.json()["user_id"] == value
    else:
        assert answer.status_code == 403 and _refused(answer, {"invalid_sub_claim"})


def _concrete(path: str) -> str:
    return (
        path.replace("{customer_id}", "cust-1")
        .replace("{ticket_id}", str(uuid.uuid4()))
        .replace("{list_id}", "901200011")
    )


@pytest.mark.parametrize("name", [n for n in IDS if n not in (*VISIBLE_ASCII, *UNICODE_TEXT, "empty")])
def test_every_authorized_route_refuses_a_hostile_org_claim(stack, api, name: str) -> None:
    token = stack.token(HOSTILE[name], user="user-1")
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    routes = [r for r in d.ROUTES if r.authorized]
    assert len(routes) >= 20
    for route in routes:
        query = "?return_to=http%3A%2F%2F127.0.0.1%2F" if route.path == "/clickup/oauth/connect" else ""
        body = b"{}" if route.method in ("POST", "PUT", "PATCH") else None
        answer = api.request(route.method, _concrete(route.path) + query, headers=headers, content=body)
        if answer.status_code == 422:  # the body or parameters were checked first: still never a 5xx
            _refused(answer, {"validation_error"})
            continue
        assert answer.status_code == 403, (route.route_key, answer.status_code, answer.text[:200])
        _refused(answer, {"invalid_org_claim"})


# Which test sends hostile values through each route's own inputs (a new route must be added here and there).
INPUTS_COVERED = {
    "GET /health": "no input",
    "GET /api/v1/me": "test_hostile_claims_are_403, test_events_carrying_any_text_never_get_a_5xx",
    "GET /api/v1/clickup/spaces": "test_hostile_query_values",
    "GET /api/v1/clickup/members": "test_hostile_query_values",
    "GET /api/v1/clickup/lists/{list_id}/fields": "test_hostile_ids_in_paths (and test_list_fields.py)",
    "GET /docs": "test_hostile_query_values",
    "PUT /api/v1/tickets/{ticket_id}/clickup-task/link": "test_hostile_ids_in_paths, test_hostile_ids_in_bodies",
    "DELETE /api/v1/tickets/{ticket_id}/clickup-task": "test_hostile_ids_in_paths",
    "POST /api/v1/clickup/sync": "claims only (test_every_authorized_route_refuses_a_hostile_org_claim)",
    "PUT /api/v1/customers/{customer_id}/clickup-space": "test_hostile_ids_in_paths, test_hostile_ids_in_bodies",
    "GET /api/v1/customers/{customer_id}/clickup-space": "test_hostile_ids_in_paths",
    "DELETE /api/v1/customers/{customer_id}/clickup-space": "test_hostile_ids_in_paths",
    "POST /api/v1/tickets/{ticket_id}/clickup-task": "test_hostile_ids_in_paths, test_hostile_ids_in_bodies",
    "GET /api/v1/tickets/{ticket_id}/clickup-task": "test_hostile_ids_in_paths",
    "PATCH /api/v1/tickets/{ticket_id}/clickup-task": "test_hostile_ids_in_paths, test_hostile_ids_in_bodies",
    "POST /api/v1/tickets/{ticket_id}/clickup-task/comments": "test_hostile_ids_in_paths",
    "POST /api/v1/tickets/{ticket_id}/clickup-task/retry": "test_hostile_ids_in_paths",
    "GET /api/v1/tickets/{ticket_id}/clickup-task/history": "test_hostile_ids_in_paths",
    "GET /api/v1/clickup/events": "test_hostile_query_values",
    "POST /webhooks/clickup": "test_a_hostile_signature_is_401_invalid_signature, test_a_hostile_webhook_id_is_401",
    "GET /clickup/oauth/connect": "test_a_hostile_return_to_is_refused",
    "GET /clickup/oauth/callback": "test_a_hostile_state_lands_on_state_invalid, test_a_hostile_code_lands_on_a_stable",
    "DELETE /clickup/oauth/disconnect": "test_hostile_query_values",
    "GET /api/v1/clickup/connection": "test_hostile_claims_are_403",
    "PUT /api/v1/clickup/connection/default-workspace": "test_hostile_ids_in_bodies",
    "PUT /api/v1/clickup/connection/personal-token": "test_a_hostile_personal_token_is_422_token_malformed",
    "POST /api/v1/clickup/connection/test": "claims only (test_every_authorized_route_refuses_a_hostile_org_claim)",
    "GET /api/v1/clickup/settings": "claims only (test_every_authorized_route_refuses_a_hostile_org_claim)",
    "PUT /api/v1/clickup/settings": "test_hostile_ids_in_bodies",
    "POST /api/v1/clickup/portal-webhook/secret": "claims only",
}


def test_every_declared_route_is_in_the_hostile_matrix() -> None:
    assert set(INPUTS_COVERED) == {r.route_key for r in d.ROUTES}


def test_a_claim_is_never_folded_into_another_tenant(stack, api, world) -> None:
    for folded in (f" {world['org']}", f"{world['org']} ", f"{world['org']}\u200b"):
        token = stack.token(folded, user="user-1")
        answer = api.get("/api/v1/clickup/connection", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "invalid_org_claim"
        # nor reads the other tenant's ticket links (issue 16 failure 4: " org-a" read org-a's links)
        link = api.get(f"/api/v1/tickets/{world['ticket']}/clickup-task", headers={"Authorization": f"Bearer {token}"})
        assert link.status_code == 403 and link.json()["error"]["code"] == "invalid_org_claim"
    for folded_sub in (" user-1", "user-1 ", "\tuser-1", "user-1\n", "user-1\u200b"):
        token = stack.token(world["org"], user=folded_sub)
        for path in ("/api/v1/me", f"/api/v1/tickets/{world['ticket']}/clickup-task"):
            answer = api.get(path, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 403 and answer.json()["error"]["code"] == "invalid_sub_claim", path


# -- straight into the functions: what an API Gateway event may carry -------------------------------------


def _event(method: str, path: str, route: str, **parts: Any) -> dict[str, Any]:
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **parts.pop("headers", {})},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
            "requestId": uuid.uuid4().hex,
            "routeKey": f"{method} {route}",
            "stage": "$default",
            "time": "01/Dec/2026:00:00:00 +0000",
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    claims = parts.pop("claims", None)
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event.update(parts)
    return event


def _invoke(stack: LocalStack, function: str, event: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
    result = stack.functions[function].invoke(event)
    return int(result["statusCode"]), result.get("headers") or {}, str(result.get("body") or "")


@pytest.mark.parametrize("name", IDS)
def test_events_carrying_any_text_never_get_a_5xx(stack, world, name: str) -> None:
    value = HOSTILE[name]
    claims = {"org_id": world["org"], "sub": "user-1", "role": "admin"}
    raw = json.dumps({"webhook_id": world["hook"]["id"], "event": "taskUpdated"})
    status, _, body = _invoke(
        stack,
        "webhook",
        _event("POST", "/webhooks/clickup", "/webhooks/clickup", headers={"x-signature": value * 8}, body=raw),
    )
    assert status == 401 and json.loads(body)["error"]["code"] in ("invalid_signature", "missing_signature")

    status, headers, _ = _invoke(
        stack,
        "oauth",
        _event(
            "GET",
            "/clickup/oauth/callback",
            "/clickup/oauth/callback",
            queryStringParameters={"state": value, "code": value},
        ),
    )
    assert status == 302 and "reason=state_invalid" in headers["Location"]

    for path, route, params, function in [
        (f"/api/v1/customers/{value}/clickup-space", "/api/v1/customers/{customer_id}/clickup-space", None, "api"),
        ("/api/v1/clickup/spaces", "/api/v1/clickup/spaces", {"workspace_id": value}, "api"),
        ("/api/v1/clickup/events", "/api/v1/clickup/events", {"after": value}, "api"),
        ("/clickup/oauth/connect", "/clickup/oauth/connect", {"return_to": value}, "oauth"),
    ]:
        extra: dict[str, Any] = {"claims": claims}
        if "{customer_id}" in route:
            extra["pathParameters"] = {"customer_id": value}
        if params:
            extra["queryStringParameters"] = params
        status, _, body = _invoke(stack, function, _event("GET", path, route, **extra))
        if name == "empty" and params and "workspace_id" in params:
            assert status < 500, body
            continue
        assert 400 <= status < 500, (path, status, body[:300])
        assert set(json.loads(body)) == {"error"}

    status, _, body = _invoke(
        stack,
        "api",
        _event("GET", "/api/v1/me", "/api/v1/me", claims={"org_id": value, "sub": "u", "role": "member"}),
    )
    if name in ("traversal", "dot_dot", "percent", *UNICODE_TEXT):
        assert status == 200 and json.loads(body)["org_id"] == value
    else:
        assert status == 403 and json.loads(body)["error"]["code"] in ("invalid_org_claim", "missing_org_claim")


# -- the ClickUp client and the local DynamoDB ----------------------------------------------------------------


@pytest.mark.parametrize("bad", ["..", ".", "a/b", "../../team/1", "%2e%2e", "", "é", "a b", "1?x=1", "1#f"])
def test_the_client_never_sends_an_id_that_cannot_be_clickups(stack, world, bad: str) -> None:
    from bridge.clickup.client import ClickUpClient
    from bridge.clickup.errors import NotFound

    requests_before = len(world["clickup"].get("/_emulator/requests", params={"since": 0}).json()["requests"])
    client = ClickUpClient("pk_0_unused", base=f"{stack.emulator.url}/api/v2")
    for call in (
        lambda: client.get_task(bad),
        lambda: client.get_list(bad),
        lambda: client.get_spaces(bad),
        lambda: client.update_webhook(bad, "https://x", ["*"]),
        lambda: client.set_custom_field("abc", bad, 1),
    ):
        with pytest.raises(NotFound):
            call()
    requests_after = len(world["clickup"].get("/_emulator/requests", params={"since": 0}).json()["requests"])
    assert requests_after == requests_before


_KEY_OPERATIONS = ["get_item", "delete_item", "update_item", "query", "transact_delete", "transact_update"]


@pytest.mark.parametrize(
    ("operation", "key"),
    [
        (operation, key)
        for operation in [*_KEY_OPERATIONS, "transact_check"]
        for key in ("empty_pk", "empty_sk", "long_pk", "long_sk")
        if not (operation == "query" and key.endswith("_sk"))  # a query names no sort key value
    ],
)
def test_the_local_dynamodb_refuses_keys_dynamodb_refuses(stack, operation: str, key: str) -> None:
    """DynamoDB: key attributes are 1..2,048 bytes (partition) and 1..1,024 bytes (sort), on every request that
    names a key (Constraints, "Partition keys and sort keys"). moto let some of these through."""
    ddb, name = stack.aws.client("dynamodb"), stack.environment()["TABLE_NAME"]
    pk, sk = {"empty_pk": ("", "x"), "empty_sk": ("p", ""), "long_pk": ("p" * 2049, "x"), "long_sk": ("p", "s" * 1025)}[
        key
    ]
    keys = {"pk": {"S": pk}, "sk": {"S": sk}}
    calls: dict[str, Callable[[], Any]] = {
        "get_item": lambda: ddb.get_item(TableName=name, Key=keys),
        "delete_item": lambda: ddb.delete_item(TableName=name, Key=keys),
        "update_item": lambda: ddb.update_item(
            TableName=name, Key=keys, UpdateExpression="SET a = :a", ExpressionAttributeValues={":a": {"S": "1"}}
        ),
        "query": lambda: ddb.query(
            TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": pk}}
        ),
        "transact_delete": lambda: ddb.transact_write_items(
            TransactItems=[{"Delete": {"TableName": name, "Key": keys}}]
        ),
        "transact_update": lambda: ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": name,
                        "Key": keys,
                        "UpdateExpression": "SET a = :a",
                        "ExpressionAttributeValues": {":a": {"S": "1"}},
                    }
                }
            ]
        ),
        "transact_check": lambda: ddb.transact_write_items(
            TransactItems=[
                {"ConditionCheck": {"TableName": name, "Key": keys, "ConditionExpression": "attribute_exists(pk)"}}
            ]
        ),
    }
    with pytest.raises(ddb.exceptions.ClientError) as refused:
        calls[operation]()
    assert refused.value.response["Error"]["Code"] == "ValidationException", refused.value.response
