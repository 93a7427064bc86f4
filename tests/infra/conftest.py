"""Synthesize the stack once per session (jsii's start costs seconds) with cdk-nag's checks applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra import definitions as d

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from infra.app import build

    # The layer's own part, built as `make layer` builds it (the dependencies do not change the template's shape).
    from infra.layer import add_bridge

    layer = tmp_path_factory.mktemp("layer")
    add_bridge(layer)
    app = App(outdir=str(tmp_path_factory.mktemp("cdk.out")))
    stack = build(app, stage=d.LOCAL_STAGE, layer_dir=layer, jwt_issuer=d.LOCAL_JWT_ISSUER)
    assembly = app.synth()  # raises ValidationFailed on any unacknowledged cdk-nag finding
    template = Template.from_stack(stack)
    return assembly, template.to_json()


@pytest.fixture(scope="session")
def template(synthesized: tuple[Any, dict[str, Any]]) -> dict[str, Any]:
    return synthesized[1]


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}
