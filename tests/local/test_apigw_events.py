"""Payload v2.0 events and response mapping of the local API Gateway adapter."""

from __future__ import annotations

import base64
import json

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from infra.definitions import RouteDef
from local.apigw import HttpApi, build_event, compile_route, to_response

ROUTE = RouteDef("POST", "/api/v1/tickets/{ticket_id}/clickup-task", "api", authorized=True)


def _request(**kwargs) -> Request:
    return Request(EnvironBuilder(**kwargs).get_environ())


def test_event_is_a_complete_v2_payload() -> None:
    request = _request(
        method="POST",
        path="/api/v1/tickets/t-1/clickup-task",
        query_string="a=1&a=2&b=",
        headers={"X-Custom": "v", "Cookie": "s=1; t=2", "Content-Type": "application/json"},
        data=json.dumps({"title": "héllo"}),
    )
    event = build_event(request, ROUTE, {"ticket_id": "t-1"}, {"org_id": "o", "exp": "1"})
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /api/v1/tickets/{ticket_id}/clickup-task"
    assert event["rawPath"] == "/api/v1/tickets/t-1/clickup-task"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["pathParameters"] == {"ticket_id": "t-1"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert "cookie" not in event["headers"] and event["headers"]["x-custom"] == "v"
    ctx = event["requestContext"]
    assert ctx["stage"] == "$default" and ctx["requestId"] and isinstance(ctx["timeEpoch"], int)
    assert ctx["http"]["method"] == "POST" and ctx["http"]["path"] == event["rawPath"]
    assert ctx["authorizer"] == {"jwt": {"claims": {"org_id": "o", "exp": "1"}, "scopes": None}}
    assert event["isBase64Encoded"] is False and json.loads(event["body"]) == {"title": "héllo"}


def test_binary_body_is_base64_encoded() -> None:
    payload = bytes(range(256))
    request = _request(method="POST", path="/x", data=payload, headers={"Content-Type": "application/octet-stream"})
    event = build_event(request, ROUTE, {}, None)
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == payload
    assert "authorizer" not in event["requestContext"]


def test_response_mapping_status_headers_cookies_and_base64() -> None:
    response = to_response(
        {
            "statusCode": 302,
            "headers": {"Location": "https://x"},
            "cookies": ["a=1", "b=2"],
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }
    )
    assert response.status_code == 302 and response.headers["Location"] == "https://x"
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert response.get_data() == b"\x00\x01"


def test_format_2_infers_json_from_a_plain_result() -> None:
    response = to_response({"hello": "world"})
    assert response.status_code == 200 and response.json == {"hello": "world"}


def test_literal_routes_win_over_parameters() -> None:
    routes = [RouteDef("GET", "/a/{id}", "api", False), RouteDef("GET", "/a/me", "api", True)]
    api = HttpApi(routes, {}, authorizer=None)  # type: ignore[arg-type]
    assert api.match("GET", "/a/me") == (routes[1], {})
    assert api.match("GET", "/a/42") == (routes[0], {"id": "42"})
    assert api.match("POST", "/a/42") is None
    assert compile_route(RouteDef("GET", "/p/{proxy+}", "api", False)).pattern.match("/p/x/y")
