"""The committed OpenAPI document is generated from the code, and the code serves exactly the declared routes."""

from __future__ import annotations

import json

from infra import definitions as d
from local import openapi


def test_committed_document_matches_the_code() -> None:
    committed = openapi.DOCUMENT.read_text()
    assert json.loads(committed) == json.loads(openapi.render()), "run `make openapi` and commit docs/openapi.json"


def test_each_resolver_serves_exactly_its_declared_routes() -> None:
    for function in openapi.http_functions():
        app = openapi.resolver_of(function)
        served = {
            (m.upper(), p) for m, p in ((r.method, r.openapi_path) for r in app._static_routes + app._dynamic_routes)
        }
        declared = {(r.method, r.path) for r in d.ROUTES if r.function == function}
        assert served == declared, function


def test_protected_routes_declare_the_jwt_and_errors() -> None:
    document = openapi.generate()
    for route in d.ROUTES:
        operation = document["paths"][route.path][route.method.lower()]
        assert ("security" in operation) == route.authorized
        if route.authorized:
            assert "401" in operation["responses"]


def test_every_operation_documents_what_it_answers() -> None:
    """Issue 16, failure 2: each operation documents its success response with its real model, and every error it
    can answer with the error shape the resolver really returns (`ErrorBody`), never Powertools' own
    `HTTPValidationError` (which no route returns): on a body route 400 (`invalid_json`, `invalid_body`,
    `body_required`), 415 (`unsupported_media_type`) and 422; on every route 422 (an undeclared query parameter
    is refused), but on the OAuth callback, which reads its query itself (RFC 6749 §4.1.2)."""
    document = openapi.generate()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for route in d.ROUTES:
        operation = document["paths"][route.path][route.method.lower()]
        answers = operation["responses"]
        successes = [s for s in answers if s.startswith(("2", "3"))]
        assert successes, (route.route_key, sorted(answers))
        for status in successes:
            if status in ("204", "302"):
                assert "content" not in answers[status], route.route_key
            else:
                assert answers[status]["content"]["application/json"]["schema"], (route.route_key, status)
        expected = set() if route.path == "/clickup/oauth/callback" else {"422"}
        if "requestBody" in operation:
            expected |= {"400", "415"}
        for status in expected:
            assert answers[status]["content"]["application/json"]["schema"] == error, (route.route_key, status)
        if not expected:
            assert "422" not in answers, route.route_key
        gateway = {"$ref": "#/components/schemas/GatewayMessage"}
        for status, answer in answers.items():
            if status.startswith("4") and status not in ("401", "413") and "content" in answer:
                assert answer["content"]["application/json"]["schema"] == error, (route.route_key, status)
        # API Gateway's own 413 (a request over its limits, before any function runs) on every route; a route whose
        # function answers 413 itself documents either shape
        too_large = answers["413"]["content"]["application/json"]["schema"]
        assert too_large == gateway or too_large == {"anyOf": [error, gateway]}, (route.route_key, too_large)


def test_the_documentation_page_serves_the_committed_document() -> None:
    """Issue 19 part 4: GET /docs serves the copy shipped in the layer, which is the committed document."""
    assert openapi.SERVED_COPY.read_text() == openapi.DOCUMENT.read_text(), "run `make openapi` and commit both"


def test_every_body_and_answer_has_an_example() -> None:
    """Issue 19 part 4: the documentation page shows an example of each route's body and each JSON answer."""
    document = openapi.generate()
    schemas = document["components"]["schemas"]

    def has_example(media: dict) -> bool:
        schema = media.get("schema") or {}
        ref = schema.get("$ref", "").rsplit("/", 1)[-1]
        return "example" in media or "examples" in media or bool(schemas.get(ref, schema).get("examples"))

    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and not has_example(body):
                missing.append((method, path, "body"))
            for status, answer in operation["responses"].items():
                media = answer.get("content", {}).get("application/json")
                if media is not None and not has_example(media):
                    missing.append((method, path, status))
    assert missing == []


def test_every_example_is_valid_for_its_schema() -> None:
    """An example that its own schema refuses would teach the portal team a wrong shape."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    document = openapi.generate()
    registry = Registry().with_resource("urn:doc", Resource.from_contents(document, default_specification=DRAFT202012))
    for name, schema in document["components"]["schemas"].items():
        for example in schema.get("examples", []):
            validator = jsonschema.Draft202012Validator(
                {"$ref": f"urn:doc#/components/schemas/{name}"}, registry=registry
            )
            errors = [e.message for e in validator.iter_errors(example)]
            assert errors == [], (name, errors)
