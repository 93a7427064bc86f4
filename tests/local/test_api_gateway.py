"""The local HTTP API behaves as API Gateway does: JWT authorizer first, v2 events, response mapping."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from infra import definitions as d
from local.stack import LocalStack
from tests.conftest import healthy


def test_health_is_public_and_reports_dependencies(api: httpx.Client) -> None:
    response = healthy(api)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["version"]
    assert {c["name"]: c["status"] for c in body["dependencies"]} == {"dynamodb": "ok", "kms": "ok", "sqs": "ok"}


def test_protected_route_without_token_is_rejected_before_the_handler(stack: LocalStack, api: httpx.Client) -> None:
    before = stack.functions["api"].invocations
    response = api.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert stack.functions["api"].invocations == before


def test_dev_token_reaches_the_handler_with_claims(api: httpx.Client, auth, org_id: str) -> None:
    response = api.get("/api/v1/me", headers=auth(role="member", user="u-42"))
    assert response.status_code == 200
    assert response.json() == {"org_id": org_id, "user_id": "u-42", "role": "member"}


def _forged(stack: LocalStack, **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": stack.idp.issuer,
        "aud": stack.idp.audience,
        "sub": "u",
        "org_id": "o",
        "role": "admin",
        "iat": now,
        "exp": now + 60,
        **overrides,
    }
    key = overrides.pop("_key", None) or stack.idp._key
    return jwt.encode(
        {k: v for k, v in claims.items() if not k.startswith("_")},
        key,
        algorithm="RS256",
        headers={"kid": "local-dev-key-1"},
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 10},
        {"iss": "https://evil.example/idp"},
        {"aud": "another-api"},
        {"_key": rsa.generate_private_key(public_exponent=65537, key_size=2048)},
    ],
    ids=["expired", "wrong-issuer", "wrong-audience", "foreign-key"],
)
def test_bad_tokens_get_401(stack: LocalStack, api: httpx.Client, overrides: dict) -> None:
    response = api.get("/api/v1/me", headers={"Authorization": f"Bearer {_forged(stack, **overrides)}"})
    assert response.status_code == 401 and response.json() == {"message": "Unauthorized"}


def test_garbage_token_gets_401(api: httpx.Client) -> None:
    assert api.get("/api/v1/me", headers={"Authorization": "Bearer not.a.jwt"}).status_code == 401


def test_unknown_route_is_api_gateways_404(api: httpx.Client) -> None:
    response = api.get("/nope")
    assert response.status_code == 404 and response.json() == {"message": "Not Found"}


def test_token_without_org_claim_is_refused_by_the_bridge(stack: LocalStack, api: httpx.Client) -> None:
    token = _forged(stack, org_id="")
    response = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "missing_org_claim"


def test_every_declared_route_is_served(stack: LocalStack, api: httpx.Client, auth) -> None:
    for route in d.ROUTES:
        if route.method != "GET" or "{" in route.path:
            continue
        response = api.get(route.path, headers=auth() if route.authorized else {})
        assert response.status_code < 500, route.route_key
