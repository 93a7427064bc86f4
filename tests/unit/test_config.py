"""The function environment (`bridge.core.config`): validated by pydantic-core with the rules a pydantic model of the
same fields applies (issue 18 replaced the `BaseModel`, whose machinery cost a third of the webhook's cold start)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from bridge.core import config
from bridge.core.config import ConfigurationError, Settings

REQUIRED = {
    "STAGE": "dev",
    "TABLE_NAME": "table",
    "EVENT_BUS_NAME": "bus",
    "TOKENS_KEY_ID": "key",
    "SYNC_QUEUE_URL": "https://sqs/sync",
    "TASK_QUEUE_URL": "https://sqs/task",
    "WEBHOOK_QUEUE_URL": "https://sqs/webhook",
    "MAINTENANCE_QUEUE_URL": "https://sqs/maintenance",
}
TYPES = {"str": str, "int": int, "float": float, "bool": bool}


def _as_pydantic_model() -> type[BaseModel]:
    """The same fields as a pydantic model, as `Settings` was before issue 18: the reference for every rule."""
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(Settings):
        default = ... if field.default is dataclasses.MISSING else field.default
        constraints = field.metadata["constraints"]
        fields[field.name] = (TYPES[str(field.type)], Field(default, alias=field.metadata["env"], **constraints))
    config_dict = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)
    model: type[BaseModel] = create_model("Settings", __config__=config_dict, **fields)
    return model


def _outcome(validate: Any, data: dict[str, str]) -> Any:
    try:
        result = validate(data)
    except ValidationError as exc:
        return ("invalid", sorted((e["loc"], e["type"]) for e in exc.errors()))
    return ("valid", {f.name: getattr(result, f.name) for f in dataclasses.fields(Settings)})


VALUES = ["", "0", "1", "-1", "5", "10000", "10001", "0.5", "1.5", "true", "false", "yes", "off", "t", " 5", "1e3"]
VALUES += ["nan", "abc", "ab", "+5", "1_0", "TRUE", "\u0663"]  # ARABIC-INDIC DIGIT THREE


@pytest.mark.parametrize(
    "name", [*REQUIRED, "TICK_PAGE_SIZE", "RETRY_TIME_SCALE", "PORTAL_WEBHOOK_ALLOW_LOOPBACK", "API_DOCS_ENABLED"]
)
def test_every_value_gets_the_outcome_a_pydantic_model_of_the_same_fields_gives(name: str) -> None:
    reference = _as_pydantic_model()
    for value in VALUES:
        by_name = next(f.name for f in dataclasses.fields(Settings) if f.metadata["env"] == name)
        cases = [{**REQUIRED, name: value}, {**REQUIRED, name: value, "STAGE": ""}]
        cases += [{**{k: v for k, v in REQUIRED.items() if k != name}, by_name: value}]  # by field name
        cases += [{**REQUIRED, name: value, by_name: "7"}]  # both: the environment name wins
        for data in cases:
            assert _outcome(Settings.model_validate, data) == _outcome(reference.model_validate, data), (name, value)
    missing = {k: v for k, v in REQUIRED.items() if k != name}
    assert _outcome(Settings.model_validate, missing) == _outcome(reference.model_validate, missing)


def test_values_are_typed_defaulted_and_read_by_environment_or_field_name() -> None:
    cfg = Settings.model_validate(
        {**REQUIRED, "TICK_PAGE_SIZE": "25", "RETRY_TIME_SCALE": "0.01", "PORTAL_WEBHOOK_ALLOW_LOOPBACK": "true"}
    )
    assert (cfg.tick_page_size, cfg.retry_time_scale, cfg.portal_webhook_allow_loopback) == (25, 0.01, True)
    assert cfg.api_docs_enabled is True and cfg.public_base_url == "https://bridge.invalid"
    assert cfg.webhook_endpoint == "https://bridge.invalid/webhooks/clickup"
    assert Settings.model_validate({**REQUIRED, "stage": "ignored", "tick_page_size": 7}).tick_page_size == 7
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.stage = "prod"  # type: ignore[misc]


def test_an_invalid_environment_fails_the_cold_start_naming_variables_never_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TICK_PAGE_SIZE", "0")
    monkeypatch.setenv("RETRY_TIME_SCALE", "hunter2")
    monkeypatch.delenv("STAGE")
    config.settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError) as raised:
            config.settings()
    finally:
        config.settings.cache_clear()
    message = str(raised.value)
    assert message == "invalid function environment: STAGE, TICK_PAGE_SIZE, RETRY_TIME_SCALE"
    assert "hunter2" not in message
