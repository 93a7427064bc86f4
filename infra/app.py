"""CDK app entry point (`make synth`, `make deploy`; cdk.json runs this file)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Environment  # noqa: E402

from infra import definitions as d  # noqa: E402
from infra import nag  # noqa: E402
from infra.deployment import INPUTS, DeploymentInputError, DeploymentInputs  # noqa: E402
from infra.stack import BridgeStack  # noqa: E402


def build(
    app: App,
    *,
    stage: str,
    layer_dir: Path,
    jwt_issuer: str = "",
    deployment: dict[str, str] | None = None,
    inputs: DeploymentInputs | None = None,
) -> BridgeStack:
    """The bridge's stack for `stage`, with cdk-nag applied.

    `inputs` are a deployment's (checked here: a stage other than `dev` needs every one, else
    DeploymentInputError). Without them, `jwt_issuer` and `deployment` (the functions' settings) stand in,
    unchecked: the tests synthesize the local stack's stage with the local identity provider that way.
    """
    if inputs is None:
        given = deployment or {}
        inputs = DeploymentInputs(
            stage=stage,
            clickup_client_id=given.get("CLICKUP_CLIENT_ID", ""),
            public_base_url=given.get("PUBLIC_BASE_URL", ""),
            portal_origin=given.get("PORTAL_ORIGIN", ""),
            jwt_issuer=jwt_issuer,
        )
    else:
        inputs.check()
    stack = BridgeStack(
        app,
        f"ClickUpBridge-{stage}",
        stage=stage,
        layer_dir=layer_dir,
        inputs=inputs,
        env=Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
        description="ClickUp bridge: portal <-> ClickUp on Lambda",
    )
    nag.check(app)
    return stack


def main() -> None:
    # `cdk deploy` passes context through the environment; `make synth` runs this file directly with flags.
    parser = argparse.ArgumentParser(description="Synthesize the bridge's CloudFormation template")
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--outdir")
    args = parser.parse_args()
    context = dict(item.split("=", 1) for item in args.context)
    app = App(context=context or None, outdir=args.outdir)
    stage = app.node.try_get_context("stage") or d.DEFAULT_STAGE
    layer_dir = Path(app.node.try_get_context("layer_dir") or ROOT / "build" / "layer")
    if not (layer_dir / "python").is_dir():
        raise SystemExit(f"the Lambda layer is not built at {layer_dir}: run `make layer` (make synth does)")
    # Deployment inputs (infra/deployment.py): -c key=value or the environment; `dev` needs none of them.
    context = {key: app.node.try_get_context(key) for key, _, _ in INPUTS.values()}
    try:
        inputs = DeploymentInputs.read(stage, context, os.environ).check()
    except DeploymentInputError as exc:
        raise SystemExit(str(exc)) from None
    build(app, stage=stage, layer_dir=layer_dir, inputs=inputs)
    app.synth()


if __name__ == "__main__":
    main()
