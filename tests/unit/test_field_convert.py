"""A portal field's value reaches a ClickUp text field as text, or is refused naming the field: never as a Python
rendering of another type ("True", "['x', 'y']")."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.clickup.models import CustomField
from bridge.tasks.fields import FieldValueError, convert
from bridge.tasks.models import field_value_problem


@pytest.mark.parametrize("kind", ["short_text", "text", "email", "url", "phone"])
@pytest.mark.parametrize(("value", "sent"), [("gold", "gold"), (12, "12"), (1.5, "1.5")])
def test_text_fields_take_text_and_numbers_as_written(kind: str, value: Any, sent: str) -> None:
    field = CustomField.model_validate({"id": "f1", "name": "Tier", "type": kind, "type_config": {}})
    assert convert(field, value, None) == sent


@pytest.mark.parametrize("value", [True, False, ["x", "y"], {"a": 1}, None])
def test_text_fields_refuse_other_types(value: Any) -> None:
    field = CustomField.model_validate({"id": "f1", "name": "Tier", "type": "short_text", "type_config": {}})
    with pytest.raises(FieldValueError, match="Tier: expects text"):
        convert(field, value, None)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("x" * 10_000, None),
        ("x" * 10_001, "text over 10000 characters"),
        (10**38 - 1, None),
        (10**38, "more than 38 significant digits"),
        (-(10**38), "more than 38 significant digits"),
        (1e-130, None),
        (9.9e-131, "outside 1E-130..9.99E+125 in magnitude"),
        (9.99e125, None),
        (1e126, "outside 1E-130..9.99E+125 in magnitude"),
        (0.0, None),
        (float("nan"), "not a finite number"),
        (float("inf"), "not a finite number"),
        (True, None),
        (["a", "b"], None),
        ([], None),
        (["a", 1], "a list holds option labels only (text of 1..200 characters)"),
        ({"a": 1}, "not a value a ClickUp custom field takes (text, number, true/false, a list of labels or null)"),
    ],
)
def test_what_a_field_value_may_be(value: Any, problem: str | None) -> None:
    assert field_value_problem(value) == problem
