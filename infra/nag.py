"""cdk-nag (v3 API) on the whole app. Findings are acknowledged where the resource is declared, with a reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def check(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Accept one finding on `scope` (and what it contains), saying why."""
    Validations.of(scope).acknowledge(Acknowledgment(id=finding, reason=reason))
