"""A deployment's inputs (infra/deployment.py): `dev` synthesizes with none, any other stage only with all of them."""

from __future__ import annotations

import pytest

from infra import definitions as d
from infra.deployment import DeploymentInputError, DeploymentInputs

COMPLETE = {
    "clickup_client_id": "K7QW2ZP9X4M1R8T6Y3V5B0N2C4D6F8H1",
    "portal_origin": "https://portal.acme-support.com",
    "jwt_issuer": "https://login.acme-support.com/realms/portal",
    "alarm_email": "ops@acme-support.com",
}


def test_dev_synthesizes_offline_with_no_inputs() -> None:
    inputs = DeploymentInputs.read("dev", {}, {})
    assert inputs.check() is inputs
    assert inputs.effective_jwt_issuer == d.LOCAL_JWT_ISSUER  # the functions then report the placeholders


def test_another_stage_without_inputs_is_refused_naming_each_and_how_to_set_it() -> None:
    with pytest.raises(DeploymentInputError) as refused:
        DeploymentInputs.read("prod", {}, {}).check()
    message = str(refused.value)
    assert "refusing to synthesize stage 'prod'" in message
    for name, env in (
        ("clickup_client_id", "CLICKUP_CLIENT_ID"),
        ("portal_origin", "PORTAL_ORIGIN"),
        ("jwt_issuer", "JWT_ISSUER"),
        ("alarm_email", "ALARM_EMAIL"),
    ):
        assert f"{name} is missing" in message and env in message and f"-c {name}=" in message
    assert len(refused.value.problems) == 4  # public_base_url and jwt_audience are optional


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("clickup_client_id", "BRIDGEDEMOCLIENT0000000000000001", "placeholder"),
        ("clickup_client_id", "changeme", "placeholder"),
        ("clickup_client_id", "has spaces in it", "not a ClickUp client id"),
        ("portal_origin", "https://portal.invalid", "placeholder host"),
        ("portal_origin", "https://portal.acme-support.com/app", "an origin has no path"),
        ("portal_origin", "https://portal.example.com", "placeholder host"),
        ("portal_origin", "http://portal.acme-support.com", "not an https URL"),
        ("portal_origin", "https://localhost:3000", "placeholder host"),
        ("public_base_url", "https://bridge.invalid", "placeholder host"),
        ("public_base_url", "https://user:pw@bridge.acme-support.com", "credentials"),
        ("jwt_issuer", d.LOCAL_JWT_ISSUER, "placeholder host"),
        ("jwt_issuer", "https://example.com/idp", "placeholder host"),
        ("jwt_audience", "", "empty or a placeholder"),
        ("alarm_email", "ops-team", "not an e-mail address"),
    ],
)
def test_a_placeholder_or_malformed_input_is_refused_by_name(field: str, value: str, why: str) -> None:
    inputs = DeploymentInputs.model_validate({**COMPLETE, "stage": "prod", field: value})
    with pytest.raises(DeploymentInputError) as refused:
        inputs.check()
    assert len(refused.value.problems) == 1
    assert refused.value.problems[0].startswith(field) and why in refused.value.problems[0]


def test_complete_inputs_pass_and_become_the_functions_settings() -> None:
    inputs = DeploymentInputs.model_validate({**COMPLETE, "stage": "prod"}).check()
    assert inputs.function_settings() == {
        "CLICKUP_CLIENT_ID": COMPLETE["clickup_client_id"],
        "PUBLIC_BASE_URL": "",  # the HTTP API's own endpoint, by reference (infra/stack.py)
        "PORTAL_ORIGIN": COMPLETE["portal_origin"],
    }
    assert inputs.subscribes_email
    opted_out = DeploymentInputs.model_validate({**COMPLETE, "stage": "prod", "alarm_email": "none"}).check()
    assert not opted_out.subscribes_email


def test_context_wins_over_the_environment() -> None:
    environ = {
        "CLICKUP_CLIENT_ID": "FROMENVIRONMENT0001",
        "PORTAL_ORIGIN": "https://portal.acme-support.com",
        "JWT_ISSUER": "https://login.acme-support.com",
        "ALARM_EMAIL": "ops@acme-support.com",
    }
    context = {"clickup_client_id": "FROMCONTEXT00000001", "jwt_audience": "portal-api"}
    inputs = DeploymentInputs.read("prod", context, environ).check()
    assert inputs.clickup_client_id == "FROMCONTEXT00000001"
    assert inputs.portal_origin == environ["PORTAL_ORIGIN"] and inputs.jwt_audience == "portal-api"
