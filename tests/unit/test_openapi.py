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
