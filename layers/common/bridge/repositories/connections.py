"""`ORG#{org}` / `CONNECTION`: the organisation's ClickUp connection, its token envelope and a version."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cache
from typing import (
    Any,
    Required,  # pydantic needs typing_extensions.TypedDict before 3.12
)

from typing_extensions import TypedDict

from bridge.core.recent import Recent
from bridge.repositories.table import is_conditional_failure, main_table, org_pk, plain, storable

SK = "CONNECTION"
RECENT_MAX_AGE_S = 3.0


class Workspace(TypedDict, total=False):
    """An authorized (or once authorized) ClickUp workspace as stored on the connection."""

    id: Required[str]
    name: Required[str]
    authorized: bool


@dataclass
class Connection:
    org_id: str
    status: str = "not_connected"  # connected | needs_reauth | disconnected | not_connected
    mode: str | None = None  # oauth | personal_token
    user: dict[str, Any] = field(default_factory=dict)
    workspaces: list[Workspace] = field(default_factory=list)  # {"id","name","authorized"}
    default_workspace_id: str | None = None
    connected_at: str | None = None
    last_sync_at: str | None = None
    token: dict[str, Any] | None = None  # vault envelope; never leaves this module except to the vault
    token_obtained_at: float = 0.0
    oauth_state: str | None = None  # sha256 of the OAuth state that stored this token (None: a personal token)
    version: int = 0

    @property
    def authorized_workspace_ids(self) -> list[str]:
        return [w["id"] for w in self.workspaces if w.get("authorized")]


def get(org_id: str) -> Connection | None:
    item = main_table().get_item(Key={"pk": org_pk(org_id), "sk": SK}, ConsistentRead=True).get("Item")
    if not item:
        return None
    data = {k: v for k, v in plain(item).items() if k in Connection.__dataclass_fields__}
    return _typed(data)


@cache
def _adapter() -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(Connection)


def _typed(data: dict[str, Any]) -> Connection:
    """The row as a Connection whose fields have their declared types: a field that does not (written before a
    rule existed, or by hand) takes its default, so the connection still reads (its status, token and version
    stay) and no route of the organisation fails on it."""
    from pydantic import ValidationError

    adapter = _adapter()
    try:
        return adapter.validate_python(data, strict=False)
    except ValidationError:
        pass
    good = {"org_id": data.get("org_id")}
    for name, value in data.items():
        try:
            adapter.validate_python({**good, name: value})
        except ValidationError:
            continue
        good[name] = value
    from bridge.core.observability import logger

    logger.warning("stored connection fields do not validate", extra={"fields": sorted(set(data) - set(good))})
    return adapter.validate_python(good)


_recent: Recent[Connection | None] = Recent(RECENT_MAX_AGE_S)


def recent(org_id: str) -> Connection | None:
    """The connection as read at most RECENT_MAX_AGE_S ago: for the portal's gate checks, never for a token a
    ClickUp call will use (workers read it consistently with `get`)."""
    return _recent.get(org_id, lambda: get(org_id))


def save(connection: Connection, expected_version: int) -> bool:
    """Write if nobody else wrote since `expected_version` (0: the row must not exist). False on a lost race."""
    item = {"pk": org_pk(connection.org_id), "sk": SK, **asdict(connection)}
    item["version"] = expected_version + 1
    item = {k: v for k, v in item.items() if v is not None}
    condition = "attribute_not_exists(pk)" if expected_version == 0 else "version = :v"
    kwargs: dict[str, Any] = {"Item": storable(item), "ConditionExpression": condition}
    if expected_version:
        kwargs["ExpressionAttributeValues"] = {":v": expected_version}
    _recent.forget(connection.org_id)
    try:
        main_table().put_item(**kwargs)
    except Exception as exc:
        if is_conditional_failure(exc):
            return False
        raise
    connection.version = expected_version + 1
    return True


def mark_status(org_id: str, status: str, only_if: tuple[str, ...]) -> bool:
    """Move the status (e.g. connected → needs_reauth) without touching anything else."""
    names = {"#s": "status"}
    values: dict[str, Any] = {":new": status, ":one": 1}
    _recent.forget(org_id)
    allowed = " OR ".join(f"#s = :old{i}" for i in range(len(only_if)))
    values.update({f":old{i}": s for i, s in enumerate(only_if)})
    try:
        main_table().update_item(
            Key={"pk": org_pk(org_id), "sk": SK},
            UpdateExpression="SET #s = :new ADD version :one",
            ConditionExpression=f"attribute_exists(pk) AND ({allowed})",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except Exception as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True


def set_last_sync(org_id: str, at: str) -> None:
    main_table().update_item(
        Key={"pk": org_pk(org_id), "sk": SK},
        UpdateExpression="SET last_sync_at = :t",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":t": at},
    )
