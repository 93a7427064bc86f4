"""The one media-type rule of every body route (bridge.api.resolver.json_media_type_problem), value by value."""

from __future__ import annotations

import pytest

from bridge.api.resolver import body_problem, json_media_type_problem


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json",
        "APPLICATION/JSON",
        "application/JSON;charset=UTF-8",
        "application/json ; charset = utf-8",
        'application/json; charset="utf-8"',
        "application/json; charset=utf8",
        "application/merge-patch+json",
        "application/problem+json",
        "application/vnd.acme.v2+JSON; profile=x",
    ],
)
def test_json_media_types(content_type: str | None) -> None:
    assert json_media_type_problem(content_type) is None


@pytest.mark.parametrize(
    "content_type",
    [
        "",
        " ",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/json; charset=latin-1",
        "application/json, text/plain",
        "application/jsonx",
        "application/json+xml",
        "text/json",
        "json",
        "application/",
        "/json",
        "application/json\x00",
        "application/js\u00f6n",
    ],
)
def test_other_media_types(content_type: str) -> None:
    assert json_media_type_problem(content_type)


def _event(headers: dict[str, str], body: str | None, b64: bool = False) -> dict:
    return {"headers": headers, "body": body, "isBase64Encoded": b64}


def test_body_problems_in_order() -> None:
    assert body_problem(_event({"content-type": "text/plain"}, None))[:2] == (415, "unsupported_media_type")
    assert body_problem(_event({"Content-Type": "text/plain"}, "{}"))[:2] == (415, "unsupported_media_type")
    assert body_problem(_event({}, None))[:2] == (400, "body_required")
    assert body_problem(_event({"content-type": "application/json"}, ""))[:2] == (400, "body_required")
    assert body_problem(_event({}, "/w==", b64=True))[:2] == (400, "invalid_body")
    assert body_problem(_event({}, '{"a": "\\ud800"}'))[:2] == (400, "invalid_body")
    assert body_problem(_event({"content-type": "APPLICATION/JSON"}, "{}")) is None
    assert body_problem(_event({"content-type": "text/plain"}, "{}"), reads_body=False) is None
