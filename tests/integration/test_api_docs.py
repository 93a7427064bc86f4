"""Issue 19 part 4: GET /docs serves Swagger UI over the generated OpenAPI document, with no CDN (the page carries
Swagger UI itself), and a setting switches it off."""

from __future__ import annotations

import json
import re

from local import openapi


def test_the_docs_page_is_swagger_ui_over_the_committed_document_with_nothing_from_a_cdn(api) -> None:
    answer = api.get("/docs")
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert "<title>ClickUp bridge portal API</title>" in page
    assert "SwaggerUIBundle" in page and ".swagger-ui" in page  # the script and the style are in the page
    # Nothing is loaded from elsewhere: no <script src>, no stylesheet <link>, no CDN host
    assert not re.search(r"<script[^>]+src=|<link[^>]+stylesheet", page, re.I)
    assert not re.search(r"unpkg\.com|jsdelivr|cdnjs|googleapis", page)
    document = json.loads(openapi.DOCUMENT.read_text())
    for path in document["paths"]:
        assert json.dumps(path)[1:-1].replace("/", "\\/") in page or path in page, path
    as_json = api.get("/docs", params={"format": "json"})
    assert as_json.status_code == 200 and as_json.headers["content-type"].startswith("application/json")
    assert as_json.json() == document
    refused = api.get("/docs", params={"format": "yaml"})
    assert refused.status_code == 422, refused.text


def _forget_settings(stack) -> None:
    """Every live execution environment reads its configuration again (each has its own `bridge`, local/runtime.py);
    a new one reads it at its cold start, as on Lambda."""
    for function in stack.functions.values():
        for environment in function.live_environments:
            environment.module("bridge.core.config").settings.cache_clear()


def test_the_docs_page_can_be_switched_off(api, stack, monkeypatch) -> None:
    monkeypatch.setenv("API_DOCS_ENABLED", "false")
    _forget_settings(stack)
    try:
        for params in ({}, {"format": "json"}):
            answer = api.get("/docs", params=params)
            assert (answer.status_code, answer.json()["error"]["code"]) == (404, "docs_disabled"), answer.text[:200]
    finally:
        monkeypatch.delenv("API_DOCS_ENABLED")
        _forget_settings(stack)
    assert api.get("/docs").status_code == 200


def test_a_deployment_input_switches_the_page_off() -> None:
    from infra.deployment import DeploymentInputs

    inputs = DeploymentInputs.read("prod", {"api_docs": "false"}, {})
    assert inputs.function_settings()["API_DOCS_ENABLED"] == "false"
    assert any(p.startswith("api_docs") for p in DeploymentInputs.read("prod", {"api_docs": "maybe"}, {}).problems())
    assert not any(p.startswith("api_docs") for p in DeploymentInputs.read("prod", {}, {}).problems())
