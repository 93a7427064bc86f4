"""The portal API's own OpenAPI document (docs/openapi.json) as the judge of every portal event: each event the
bridge records (the feed) or pushes (the portal's webhook endpoint) must validate against `PortalEvent`, the union
of one schema per event type, discriminated on `type`."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from local.openapi import DOCUMENT


@cache
def _validators() -> tuple[dict[str, Draft202012Validator], Draft202012Validator]:
    document = json.loads(DOCUMENT.read_text())
    schemas = document["components"]["schemas"]

    def validator(name: str) -> Draft202012Validator:
        # OpenAPI 3.1 schemas are JSON Schema 2020-12; refs point into components.schemas
        root = {"$ref": f"#/components/schemas/{name}", "components": {"schemas": schemas}}
        return Draft202012Validator(root)

    union = schemas["PortalEvent"]
    per_type = {kind: validator(ref.rsplit("/", 1)[1]) for kind, ref in union["discriminator"]["mapping"].items()}
    return per_type, validator("PortalEvent")


def problems(event: dict[str, Any]) -> list[str]:
    """Why `event` does not match the documented shape of its type ([] when it does)."""
    per_type, union = _validators()
    kind = event.get("type")
    if kind not in per_type:
        return [f"{kind!r} is not a documented event type"]
    found = [f"{kind}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in per_type[kind].iter_errors(event)]
    found += [f"{kind} (PortalEvent): {e.message}" for e in union.iter_errors(event)]
    return found


def documented_types() -> set[str]:
    return set(_validators()[0])
