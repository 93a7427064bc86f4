"""What only a deployment knows: its inputs, read from CDK context or the environment, checked before synthesis.

Every input has a CDK context key (`-c clickup_client_id=...`) and an environment variable (`CLICKUP_CLIENT_ID`);
the context wins. The `dev` stage synthesizes with none of them (`make synth` works offline): the functions then
run with placeholders that `GET /health` reports. Any other stage is refused while an input is missing or still a
placeholder, with a message naming each one (a deployment that cannot connect anybody is never produced).

Nothing here imports CDK or boto3: the CLI and the unit tests load it cheaply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from infra import definitions as d

# input → (CDK context key, environment variable, what it is)
INPUTS: dict[str, tuple[str, str, str]] = {
    "clickup_client_id": (
        "clickup_client_id",
        "CLICKUP_CLIENT_ID",
        "the client id of your ClickUp OAuth app (ClickUp: Settings → Integrations → ClickUp API → Create an App)",
    ),
    "public_base_url": (
        "public_base_url",
        "PUBLIC_BASE_URL",
        "https URL where ClickUp and browsers reach the API (a custom domain mapped to it); optional: the HTTP "
        "API's own execute-api URL by default",
    ),
    "portal_origin": (
        "portal_origin",
        "PORTAL_ORIGIN",
        "the portal's https origin (scheme://host[:port]): where OAuth ends when no return_to is allowed",
    ),
    "jwt_issuer": ("jwt_issuer", "JWT_ISSUER", "the `iss` of the portal's JWTs (its identity provider, https)"),
    "jwt_audience": ("jwt_audience", "JWT_AUDIENCE", f"the `aud` of the portal's JWTs (default {d.JWT_AUDIENCE})"),
    "alarm_email": (
        "alarm_email",
        "ALARM_EMAIL",
        "e-mail address subscribed to the alarm topic, or `none` to subscribe something else to the topic yourself",
    ),
    "api_docs": (
        "api_docs",
        "API_DOCS_ENABLED",
        "true or false: whether the stage serves the API documentation page GET /docs; optional, on by default "
        "(switch it off in production if the API's shape should not be browsable)",
    ),
}
OPTIONAL = frozenset({"public_base_url", "jwt_audience", "api_docs"})
NO_EMAIL = "none"

# Hosts that name no real deployment: RFC 2606/6761 reserved names, loopback, the local stack's own.
_PLACEHOLDER_HOSTS = re.compile(
    r"(^|\.)(invalid|example|test|localhost|local)$|(^|\.)example\.(com|net|org)$|^127\.|^0\.0\.0\.0$|^\[?::1\]?$"
)
_PLACEHOLDER_WORDS = re.compile(r"^(changeme|change-me|placeholder|todo|tbd|xxx+|your[-_ ].*|<.*>|none|null)$", re.I)
DEMO_CLIENT_ID_PREFIX = "BRIDGEDEMOCLIENT"  # the local ClickUp emulator's demo app (local/emulator/seed.py)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class DeploymentInputError(ValueError):
    """A stage other than `dev` was asked for with inputs missing or still placeholders (each one named)."""

    def __init__(self, stage: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"refusing to synthesize stage {stage!r}: the deployment inputs are incomplete\n{lines}\n"
            "Set each as `-c key=value` or as the environment variable named (README: Deploying)."
        )


def url_problem(value: str, *, origin_only: bool = False) -> str | None:
    """Why `value` is not a usable public https URL (None when it is). Placeholder hosts count as unusable."""
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        return "not an https URL"
    if _PLACEHOLDER_HOSTS.search(parts.hostname.lower()):
        return f"a placeholder host ({parts.hostname})"
    if parts.username or parts.password or parts.query or parts.fragment:
        return "must not carry credentials, a query or a fragment"
    if origin_only and parts.path not in ("", "/"):
        return "an origin has no path (scheme://host[:port])"
    return None


def client_id_problem(value: str) -> str | None:
    """Why `value` is not a ClickUp OAuth client id of a real app (None when it is)."""
    if _PLACEHOLDER_WORDS.match(value.strip()) or value.startswith(DEMO_CLIENT_ID_PREFIX):
        return "a placeholder (or the local emulator's demo app)"
    if not re.fullmatch(r"[A-Za-z0-9]{8,}", value):
        return "not a ClickUp client id (letters and digits)"
    return None


class DeploymentInputs(BaseModel):
    """The inputs of one deployment (stage). Strings are stripped; empty means not given."""

    model_config = ConfigDict(frozen=True)

    stage: str = d.DEFAULT_STAGE
    clickup_client_id: str = ""
    public_base_url: str = ""  # "" → the HTTP API's own endpoint (known after deployment, passed by reference)
    portal_origin: str = ""
    jwt_issuer: str = ""
    jwt_audience: str = d.JWT_AUDIENCE
    alarm_email: str = ""  # "" (dev only) or NO_EMAIL: no subscription
    api_docs: str = ""  # "" → on; "false" switches GET /docs off

    @classmethod
    def read(cls, stage: str, context: Mapping[str, object], environ: Mapping[str, str]) -> DeploymentInputs:
        """The inputs from CDK context (first) and the environment; checked with `check()` by the caller."""
        values: dict[str, str] = {"stage": stage}
        for name, (key, env, _) in INPUTS.items():
            raw = context.get(key)
            value = str(raw).strip() if raw not in (None, "") else environ.get(env, "").strip()
            if value:
                values[name] = value
        return cls.model_validate(values)

    @property
    def effective_jwt_issuer(self) -> str:
        return self.jwt_issuer or d.LOCAL_JWT_ISSUER

    @property
    def subscribes_email(self) -> bool:
        return bool(self.alarm_email) and self.alarm_email.lower() != NO_EMAIL

    def problems(self) -> list[str]:
        """Every input that is missing or unusable, named with how to set it; [] when all are right."""
        out: list[str] = []

        def bad(name: str, why: str) -> None:
            key, env, what = INPUTS[name]
            out.append(f"{name} {why}: {what} (-c {key}=... or {env})")

        for name in INPUTS:
            if name not in OPTIONAL and not getattr(self, name):
                bad(name, "is missing")
        for name, why in self._form_problems() + self._value_problems():
            bad(name, why)
        return out

    def _form_problems(self) -> list[tuple[str, str]]:
        """(input, why) for each given client id or URL that is not of its form."""
        out = []
        if self.clickup_client_id and (why := client_id_problem(self.clickup_client_id)):
            out.append(("clickup_client_id", f"is {why}"))
        if self.public_base_url and (why := url_problem(self.public_base_url)):
            out.append(("public_base_url", f"is {why}"))
        if self.portal_origin and (why := url_problem(self.portal_origin, origin_only=True)):
            out.append(("portal_origin", f"is {why}"))
        if self.jwt_issuer and (why := url_problem(self.jwt_issuer)):
            out.append(("jwt_issuer", f"is {why}"))
        return out

    def _value_problems(self) -> list[tuple[str, str]]:
        """(input, why) for the audience, the alarm e-mail and the docs switch when not usable."""
        out = []
        if not self.jwt_audience or _PLACEHOLDER_WORDS.match(self.jwt_audience):
            out.append(("jwt_audience", "is empty or a placeholder"))
        if self.alarm_email and self.alarm_email.lower() != NO_EMAIL and not _EMAIL.match(self.alarm_email):
            out.append(("alarm_email", "is not an e-mail address"))
        if self.api_docs and self.api_docs.lower() not in ("true", "false"):
            out.append(("api_docs", "is neither true nor false"))
        return out

    def check(self) -> DeploymentInputs:
        """Self, when the stage may be synthesized: `dev` always, any other stage only with every input right.

        Raises DeploymentInputError naming each missing or placeholder input.
        """
        if self.stage != d.DEFAULT_STAGE and (problems := self.problems()):
            raise DeploymentInputError(self.stage, problems)
        return self

    def function_settings(self) -> dict[str, str]:
        """The functions' deployment settings (`d.DEPLOYMENT_SETTINGS`); empty ones are left to the defaults."""
        out = {
            "CLICKUP_CLIENT_ID": self.clickup_client_id,
            "PUBLIC_BASE_URL": self.public_base_url.rstrip("/"),
            "PORTAL_ORIGIN": self.portal_origin.rstrip("/"),
        }
        if self.api_docs:
            out["API_DOCS_ENABLED"] = self.api_docs.lower()
        return out
