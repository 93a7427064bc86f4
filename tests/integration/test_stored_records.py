"""Stored input never breaks later reads (issue 16 failure 1). Whatever the settings route accepts validates by the
model that reads it back (PUT accepted => GET returns it equal); a stored row that no longer validates (written
before a rule existed, or by hand) is reported by its own route with a code and never turns another route of the
organisation into a 5xx. Corrupt rows are written straight into the local DynamoDB, as DynamoDB accepts them."""

from __future__ import annotations

import random
import uuid
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import wait_for
from tests.integration.test_webhooks import _inbox, _ready, _space

SETTINGS = "/api/v1/clickup/settings"


def _table(stack) -> Any:
    import boto3

    from local.aws import REGION

    resource = boto3.resource(
        "dynamodb",
        endpoint_url=stack.aws.endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return resource.Table(stack.environment()["TABLE_NAME"])


@pytest.fixture
def org(api, auth, clickup, workspace, org_id, stack) -> dict[str, Any]:
    """A connected organisation with an assigned customer and a ticket whose task exists."""
    _ready(api, auth, workspace, customer="c1")
    ticket = str(uuid.uuid4())
    body = {"title": "stored", "priority": "normal", "customer_id": "c1"}
    assert api.post(f"/api/v1/tickets/{ticket}/clickup-task", headers=auth(), json=body).status_code == 202
    wait_for(lambda: api.get(f"/api/v1/tickets/{ticket}/clickup-task", headers=auth()).json().get("task_id"))
    table = _table(stack)
    return {"ticket": ticket, "table": table, "space": _space(workspace), "list": _inbox(workspace), "ws": workspace}


def _every_route(api, auth, org: dict[str, Any]) -> dict[str, Any]:
    """Every portal route of the organisation (the destructive disconnect aside), as an admin."""
    t, space, ws = org["ticket"], org["space"], org["ws"]
    calls: list[tuple[str, str, Any]] = [
        ("GET", "/api/v1/me", None),
        ("GET", "/api/v1/clickup/connection", None),
        ("PUT", "/api/v1/clickup/connection/default-workspace", {"workspace_id": str(ws["team_id"])}),
        ("POST", "/api/v1/clickup/connection/test", None),
        ("GET", SETTINGS, None),
        ("GET", "/api/v1/clickup/spaces", None),
        ("POST", "/api/v1/clickup/sync", None),
        ("PUT", "/api/v1/customers/c2/clickup-space", {"space_id": space["id"]}),
        ("GET", "/api/v1/customers/c1/clickup-space", None),
        ("DELETE", "/api/v1/customers/c2/clickup-space", None),
        (
            "POST",
            f"/api/v1/tickets/{uuid.uuid4()}/clickup-task",
            {"title": "x", "priority": "low", "customer_id": "c1"},
        ),
        ("GET", f"/api/v1/tickets/{t}/clickup-task", None),
        ("PATCH", f"/api/v1/tickets/{t}/clickup-task", {"priority": "high"}),
        ("POST", f"/api/v1/tickets/{t}/clickup-task/comments", {"text": "hello"}),
        ("POST", f"/api/v1/tickets/{t}/clickup-task/retry", None),
        ("GET", f"/api/v1/tickets/{t}/clickup-task/history", None),
        ("GET", "/api/v1/clickup/events", None),
        ("POST", "/api/v1/clickup/portal-webhook/secret", None),
        ("GET", "/clickup/oauth/connect?return_to=" + api.base_url.scheme + "://" + api.base_url.netloc.decode(), None),
        ("PUT", "/api/v1/clickup/connection/personal-token", {"token": ws["token"]}),
    ]
    answers = {}
    for method, path, body in calls:
        answer = api.request(method, path, headers=auth(), json=body)
        answers[f"{method} {path.split('?')[0]}"] = answer
        assert answer.status_code < 500, (method, path, answer.status_code, answer.text[:300])
        if answer.status_code >= 400:
            assert "error" in answer.json() and answer.json()["error"]["code"], (method, path, answer.text)
    return answers


CORRUPT_SETTINGS = {
    "mapped field id not a ClickUp id": {"field_mapping": {"severity": ""}},
    "mapped field name padded": {"field_mapping": {" severity ": "abc"}},
    "status name with a control character": {"status_mapping": {"LIST": {"open\n": "doing"}}},
    "status mapping not a map": {"status_mapping": {"LIST": "doing"}},
    "status value a number": {"status_mapping": {"LIST": {"open": Decimal(5)}}},
    "enabled not a boolean": {"enabled": "maybe"},
    "unknown time zone": {"time_zone": "Mars/Olympus_Mons"},
    "push URL not a URL": {"portal_webhook_url": "javascript:alert(1)"},
    "allow list not a list": {"return_to_allow_list": "https://portal.example.com"},
    "space id not a ClickUp id": {"space_default_lists": {"../x": "1"}},
}


@pytest.mark.parametrize("case", sorted(CORRUPT_SETTINGS))
def test_a_corrupt_settings_row_is_reported_and_blocks_no_other_route(api, auth, org, org_id, case: str) -> None:
    corrupt = {
        k: ({org["list"]["id"]: v["LIST"]} if isinstance(v, dict) and "LIST" in v else v)
        for k, v in CORRUPT_SETTINGS[case].items()
    }
    org["table"].put_item(Item={"pk": f"ORG#{org_id}", "sk": "SETTINGS", "enabled": True, **corrupt})
    answers = _every_route(api, auth, org)
    settings = answers[f"GET {SETTINGS}"]
    assert settings.status_code == 409, settings.text
    assert settings.json()["error"]["code"] == "stored_settings_invalid"
    assert settings.json()["error"]["details"]["fields"] == sorted(corrupt)
    for route in ("GET /api/v1/clickup/connection", "GET /api/v1/clickup/spaces", "GET /api/v1/clickup/events"):
        assert answers[route].status_code == 200, (route, answers[route].text)
    # an admin's PUT of valid settings replaces the row
    fixed = api.put(SETTINGS, headers=auth(), json={"field_mapping": {"severity": "abc"}})
    assert fixed.status_code == 200, fixed.text
    assert api.get(SETTINGS, headers=auth()).json() == fixed.json()


TRICKY = [
    "",
    " ",
    "a ",
    " a",
    "\t",
    "a\nb",
    "\x00",
    "\u200b",
    "open",
    "in progress",
    "Ünïcödé",
    "🙂",
    "x" * 128,
    "x" * 129,
]


def test_whatever_the_settings_put_accepts_the_get_returns_equal(api, auth, org) -> None:
    """A property, over random mappings built from tricky names: a PUT either answers 200 and the GET returns the
    same settings (and every route still answers), or answers 4xx with a code and nothing changes."""
    rng = random.Random(16)
    list_id, statuses = org["list"]["id"], ["new", "doing", "done"]
    accepted = refused = 0
    for _ in range(60):
        body: dict[str, Any] = {}
        if rng.random() < 0.7:
            body["field_mapping"] = {rng.choice(TRICKY): rng.choice(["abc", "f-1", "", " abc"]) for _ in range(2)}
        if rng.random() < 0.7:
            body["status_mapping"] = {list_id: {rng.choice(TRICKY): rng.choice(statuses + TRICKY[:3])}}
        before = api.get(SETTINGS, headers=auth())
        assert before.status_code == 200, before.text
        answer = api.put(SETTINGS, headers=auth(), json=body)
        assert answer.status_code in (200, 422), answer.text
        after = api.get(SETTINGS, headers=auth())
        assert after.status_code == 200, (body, after.text)
        if answer.status_code == 200:
            accepted += 1
            assert after.json() == answer.json()
            for key in body:
                assert after.json()[key] == body[key]
        else:
            refused += 1
            assert answer.json()["error"]["code"] in (
                "validation_error",
                "status_not_in_list",
                "field_mapping_empty",
            ), answer.text
            assert after.json() == before.json(), "a refused PUT stores nothing"
    assert accepted and refused, (accepted, refused)
    _every_route(api, auth, org)


@pytest.mark.parametrize(
    "body",
    [
        {"field_mapping": {"": "abc"}},
        {"field_mapping": {" severity": "abc"}},
        {"field_mapping": {"a\u0000b": "abc"}},
        {"status_mapping": {"LIST": {"": "doing"}}},
        {"status_mapping": {"LIST": {"open": ""}}},
        {"status_mapping": {"LIST": {"open\r\n": "doing"}}},
    ],
)
def test_the_settings_put_refuses_names_the_model_would_refuse_on_read(api, auth, org, body) -> None:
    body = {k: ({org["list"]["id"]: v["LIST"]} if "LIST" in v else v) for k, v in body.items()}
    answer = api.put(SETTINGS, headers=auth(), json=body)
    assert answer.status_code == 422, answer.text
    assert api.get(SETTINGS, headers=auth()).status_code == 200
    _every_route(api, auth, org)


def test_the_local_dynamodb_refuses_an_empty_attribute_name_as_dynamodb_does(stack, org_id) -> None:
    """DynamoDB: "Empty attribute name" for a map key at any depth; moto stored it and its GetItem answer then
    failed to parse in botocore (the 500 on every route)."""
    from botocore.exceptions import ClientError

    table = _table(stack)
    client = stack.aws.client("dynamodb")
    name = stack.environment()["TABLE_NAME"]
    key = {"pk": f"ORG#{org_id}", "sk": "PROBE"}
    for item in ({"m": {"": "x"}}, {"m": {"a": {"": 1}}}, {"l": [{"": "x"}]}):
        with pytest.raises(ClientError) as caught:
            table.put_item(Item={**key, **item})
        assert caught.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError):
        table.update_item(Key=key, UpdateExpression="SET m = :m", ExpressionAttributeValues={":m": {"": "x"}})
    with pytest.raises(ClientError):
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": name,
                        "Item": {"pk": {"S": key["pk"]}, "sk": {"S": "P"}, "m": {"M": {"": {"S": "x"}}}},
                    }
                }
            ]
        )
    assert "Item" not in table.get_item(Key=key), "nothing was stored"
    table.put_item(Item={**key, "m": {"a": ""}})  # an empty value (not a name) is fine, as on DynamoDB
    assert table.get_item(Key=key)["Item"]["m"] == {"a": ""}


# Each other kind of row the portal's routes read, with an attribute set to what its reader cannot use, and the
# routes that read it (which report `stored_record_invalid`, 409). Every other route answers as it would anyway.
TICKET = "/api/v1/tickets/{ticket}/clickup-task"
LINK_ROUTES = {f"GET {TICKET}", f"PATCH {TICKET}", f"POST {TICKET}/comments"}
CORRUPT_ROWS: dict[str, tuple[str, str, Any, set[str]]] = {
    "connection workspaces": ("CONNECTION", "workspaces", "not a list", set()),  # read as no workspace
    "connection user": ("CONNECTION", "user", ["not", "a", "map"], set()),
    "connection default workspace": ("CONNECTION", "default_workspace_id", {"not": "an id"}, set()),
    "customer space": ("CUSTOMER#c1", "space_id", Decimal(5), {"GET /api/v1/customers/c1/clickup-space"}),
    "customer status": ("CUSTOMER#c1", "status", "exploded", {"GET /api/v1/customers/c1/clickup-space"}),
    "ticket link state": ("TICKET#{ticket}", "state", Decimal(7), LINK_ROUTES),
    # the retry route reads a created link's fields too (it re-announces its pending changes)
    "ticket link fields": ("TICKET#{ticket}", "assignees", "nobody", LINK_ROUTES | {f"POST {TICKET}/retry"}),
    "webhook health": ("WEBHOOK#{ws}", "health", {"bad": True}, set()),  # read as unknown
    "portal webhook secret": ("PORTAL_WEBHOOK", "secret", "not an envelope", set()),
    "hierarchy statuses": ("HIER#{ws}#L#", "statuses", "not a list", {"GET /api/v1/clickup/spaces"}),
    "event body": ("EVENT#", "event", "not a map", {"GET /api/v1/clickup/events"}),
}


@pytest.mark.parametrize("case", sorted(CORRUPT_ROWS))
def test_a_corrupt_row_of_any_kind_is_reported_by_its_routes_and_blocks_no_other(
    api, auth, org, org_id, case: str
) -> None:
    from boto3.dynamodb.conditions import Key

    prefix, attribute, bad, reporting = CORRUPT_ROWS[case]
    prefix = prefix.format(ticket=org["ticket"], ws=org["ws"]["team_id"])
    reporting = {r.format(ticket=org["ticket"]) for r in reporting}
    if prefix == "PORTAL_WEBHOOK":
        assert api.post("/api/v1/clickup/portal-webhook/secret", headers=auth()).status_code == 200
    rows = org["table"].query(KeyConditionExpression=Key("pk").eq(f"ORG#{org_id}") & Key("sk").begins_with(prefix))
    assert rows["Items"], f"no {prefix} row to corrupt"
    row = rows["Items"][0]
    org["table"].update_item(
        Key={"pk": row["pk"], "sk": row["sk"]},
        UpdateExpression="SET #a = :v",
        ExpressionAttributeNames={"#a": attribute},
        ExpressionAttributeValues={":v": bad},
    )
    answers = _every_route(api, auth, org)
    invalid = {route for route, a in answers.items() if a.status_code == 409 and _code(a) == "stored_record_invalid"}
    assert invalid == reporting, case
    for route in ("GET /api/v1/me", f"GET {SETTINGS}", "GET /api/v1/clickup/connection"):
        assert answers[route].status_code == 200, (route, answers[route].text)


def _code(answer: Any) -> str:
    return str(answer.json().get("error", {}).get("code"))
