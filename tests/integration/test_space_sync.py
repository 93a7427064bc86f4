"""Space sync over the local stack: first sync after connect (1 + 2S requests when ClickUp reads `archived=true`
as "archived items too", 2 + 4S + F when it reads it as "archived items only"), archived spaces, folders and lists
at every depth, folderless lists, coalescing, sweeps only after complete runs, resume from a checkpoint, targeted
refresh, assignments, and isolation between organisations.

Every test here runs under both readings of `archived=true` (the `archived_reading` fixture sets the emulator)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from bridge.repositories import hierarchy, sync_state
from tests import flows
from tests.conftest import drop_and_drain, send, wait_for

pytestmark = pytest.mark.usefixtures("archived_reading")


def expected_reads(reading: str, spaces: int, folders: int) -> int:
    """Hierarchy reads of a full sync: the "archived items too" reading is proven by the first answer holding an
    active space (1 + 2S); under "archived items only" every read is paired and each folder's other lists are read
    (2 + 4S + F)."""
    return 1 + 2 * spaces if reading == "all" else 2 + 4 * spaces + folders


def _connect(stack, api, clickup, auth, org_id, workspace) -> None:
    result = flows.connect(stack, api, clickup, auth(), org_id, workspace["user"]["id"])
    assert result["clickup"] == ["connected"]


def _synced(api, auth) -> dict:
    return wait_for(
        lambda: (lambda body: body if body.get("synced_at") else None)(
            api.get("/api/v1/clickup/spaces", headers=auth(), params={"include_archived": "true"}).json()
        ),
        timeout_s=30,
    )


def _requests(clickup: httpx.Client, since: int, token_id: str | None = None) -> list[dict]:
    log = clickup.get("/_emulator/requests", params={"since": since}).json()["requests"]
    return [r for r in log if token_id is None or r["token_id"] == token_id]


def _mark(clickup: httpx.Client) -> int:
    return int(clickup.get("/_emulator/requests", params={"since": 10**9}).json()["next"])


def _oauth_token_id(emulator, user_id: int) -> str:
    return next(t.id for t in emulator.backend.tokens.values() if t.user_id == user_id and t.kind == "oauth")


def test_first_sync_after_connect_reads_as_few_as_the_reading_allows(
    stack, api, clickup, auth, org_id, workspace, emulator, archived_reading
) -> None:
    mark = _mark(clickup)
    _connect(stack, api, clickup, auth, org_id, workspace)
    tree = _synced(api, auth)
    names = {s["name"]: s for s in tree["spaces"]}
    assert set(names) == {"Support", "Archive"} and names["Archive"]["archived"] is True
    support = names["Support"]
    assert [f["name"] for f in support["folders"]] == ["F1"]
    assert [x["name"] for x in support["folders"][0]["lists"]] == ["L1", "L2"]
    assert [x["name"] for x in support["lists"]] == ["Inbox"]  # folderless lists are read
    assert [s["status"] for s in support["lists"][0]["statuses"]] == ["new", "doing", "done"]
    assert tree["stale"] is False
    token_id = _oauth_token_id(emulator, workspace["user"]["id"])
    hierarchy_reads = [
        r
        for r in _requests(clickup, mark, token_id)
        if "/space" in r["path"] or r["path"].endswith("/folder") or r["path"].endswith("/list")
    ]
    expected = expected_reads(archived_reading, spaces=2, folders=1)
    assert len(hierarchy_reads) == expected, [r["path"] for r in hierarchy_reads]
    without_archived = api.get("/api/v1/clickup/spaces", headers=auth()).json()
    assert [s["name"] for s in without_archived["spaces"]] == ["Support"]
    assert api.get("/api/v1/clickup/connection", headers=auth()).json()["last_sync_at"]


def test_nothing_synced_yet_says_so_and_queues(api, auth, org_id, workspace, stack) -> None:
    put = api.put("/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": workspace["token"]})
    assert put.status_code == 200
    sync_state.set_state(org_id, "idle")
    from bridge.repositories import table

    table.main_table().delete_item(Key={"pk": f"ORG#{org_id}", "sk": f"SYNC#{workspace['team_id']}"})
    body = api.get("/api/v1/clickup/spaces", headers=auth()).json()
    assert body["synced_at"] is None and body["stale"] is True and body["spaces"] == []
    assert body["sync"] in ("queued", "in_progress")
    assert _synced(api, auth)["spaces"]


def test_on_demand_sync_is_coalesced(api, auth, org_id, workspace, stack) -> None:
    api.put("/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": workspace["token"]})
    _synced(api, auth)
    stack.pollers["space-sync"].stop()  # hold the worker so the requests pile up
    try:
        answers = [api.post("/api/v1/clickup/sync", headers=auth()) for _ in range(3)]
    finally:
        from local.pollers import QueuePoller

        old = stack.pollers["space-sync"]
        stack.pollers["space-sync"] = QueuePoller(
            stack.aws.client("sqs"), old.queue, old.url, old.function, old.region, stack.config.time_scale
        ).start()
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert [a.json()["state"] for a in answers] == ["queued", "already_queued", "already_queued"]
    wait_for(lambda: sync_state.get_state(org_id).get("state") == "idle", timeout_s=30)
    assert api.post("/api/v1/clickup/sync", headers=auth()).json()["state"] == "queued"


def test_deletes_are_swept_only_after_a_complete_run_and_a_run_resumes(
    api, auth, org_id, workspace, clickup, stack
) -> None:
    api.put("/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": workspace["token"]})
    _synced(api, auth)
    l2 = workspace["spaces"][0]["folders"][0]["lists"][1]["id"]
    # ClickUp's delivery of this delete is lost (else its webhook would refresh the space at once): only full
    # runs can notice it
    clickup.put("/_emulator/webhooks/delivery", json={"drop_ratio": 1})
    try:
        clickup.post(
            "/_emulator/act",
            json={"action": "delete_item", "kind": "list", "id": l2, "user_id": workspace["user"]["id"]},
        )
    finally:
        clickup.put("/_emulator/webhooks/delivery", json={"drop_ratio": 0})
    # A run that fails on the second space: nothing swept, the checkpoint says one space is done
    archive = workspace["spaces"][1]["id"]
    clickup.post("/_emulator/faults", json={"action": "status", "status": 500, "path": f"/space/{archive}/"})
    try:
        api.post("/api/v1/clickup/sync", headers=auth())
        wait_for(lambda: sync_state.get_run(org_id, workspace["team_id"]).get("done") == 1, timeout_s=30)
        time.sleep(0.5)
        names = [
            x["name"]
            for s in api.get("/api/v1/clickup/spaces", headers=auth()).json()["spaces"]
            for f in s["folders"]
            for x in f["lists"]
        ]
        assert "L2" in names  # not swept: the run is incomplete
        mark = _mark(clickup)
    finally:
        clickup.delete("/_emulator/faults")
    # The retry resumes from the checkpoint (does not re-read the first space) and then sweeps
    wait_for(lambda: sync_state.get_run(org_id, workspace["team_id"]).get("status") == "idle", timeout_s=30)
    reads = [r["path"] for r in _requests(clickup, mark) if r["status"] == 200 and "/space/" in r["path"]]
    assert all(archive in p for p in reads), reads
    names = [
        x["name"]
        for s in api.get("/api/v1/clickup/spaces", headers=auth()).json()["spaces"]
        for f in s["folders"]
        for x in f["lists"]
    ]
    assert "L2" not in names


def test_targeted_refresh_and_broken_assignment(api, auth, org_id, workspace, clickup, stack) -> None:
    api.put("/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": workspace["token"]})
    _synced(api, auth)
    space = workspace["spaces"][0]
    l1 = space["folders"][0]["lists"][0]["id"]
    ok = api.put(
        "/api/v1/customers/cust-1/clickup-space", headers=auth(), json={"space_id": space["id"], "list_id": l1}
    )
    assert ok.status_code == 200 and ok.json()["status"] == "ok"
    # ClickUp side: a new list and the assigned list deleted; their signed webhooks become targeted refreshes
    mark = _mark(clickup)
    clickup.post(
        "/_emulator/act",
        json={"action": "create_list", "space_id": space["id"], "name": "Fresh", "user_id": workspace["user"]["id"]},
    )
    clickup.post(
        "/_emulator/act", json={"action": "delete_item", "kind": "list", "id": l1, "user_id": workspace["user"]["id"]}
    )
    wait_for(lambda: api.get("/api/v1/customers/cust-1/clickup-space", headers=auth()).json()["status"] == "broken")
    assignment = api.get("/api/v1/customers/cust-1/clickup-space", headers=auth()).json()
    assert assignment["broken_reason"] == "list_deleted"
    wait_for(
        lambda: (
            "Fresh"
            in [
                x["name"]
                for s in api.get("/api/v1/clickup/spaces", headers=auth()).json()["spaces"]
                for x in s["lists"]
            ]
        )
    )
    reads = [r["path"] for r in _requests(clickup, mark) if r["method"] == "GET"]
    # the delete re-reads the one space it concerns; a created list is not in the store yet, so its event asks
    # for a full sync (1 + 2S or 2 + 4S + F reads, by reading) to place it
    assert f"/api/v2/space/{space['id']}/folder" in reads, reads
    feed = stack.aws.client("dynamodb").query(
        TableName=stack.environment()["TABLE_NAME"],
        KeyConditionExpression="pk = :p AND begins_with(sk, :e)",
        ExpressionAttributeValues={":p": {"S": f"ORG#{org_id}"}, ":e": {"S": "EVENT#"}},
    )["Items"]
    assert "clickup.assignment.broken" in json.dumps(feed)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"space_id": "nope"}, 404, "space_not_found"),
        ({"space_id": "SPACE", "list_id": "nope"}, 404, "list_not_found"),
        ({"space_id": "SPACE", "list_id": "OTHER_SPACE_LIST"}, 422, "list_not_in_space"),
        ({"space_id": "ARCHIVED"}, 422, "space_archived"),
        ({"space_id": "SPACE", "extra": 1}, 422, "validation_error"),
    ],
)
def test_assignment_validation(api, auth, org_id, workspace, body, status, code) -> None:
    api.put("/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": workspace["token"]})
    _synced(api, auth)
    ids = {
        "SPACE": workspace["spaces"][0]["id"],
        "ARCHIVED": workspace["spaces"][1]["id"],
        "OTHER_SPACE_LIST": workspace["spaces"][1]["lists"][0]["id"],
    }
    resolved = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    answer = api.put("/api/v1/customers/c-9/clickup-space", headers=auth(), json=resolved)
    assert answer.status_code == status and answer.json()["error"]["code"] == code
    assert api.get("/api/v1/customers/c-9/clickup-space", headers=auth()).status_code == 404
    assert api.delete("/api/v1/customers/c-9/clickup-space", headers=auth()).status_code == 404


def test_organisations_never_see_each_others_hierarchy(api, auth, org_id, workspace, clickup) -> None:
    api.put("/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": workspace["token"]})
    _synced(api, auth)
    other = f"{org_id}-b"
    assert api.get("/api/v1/clickup/spaces", headers=auth(org=other)).status_code == 409  # not connected
    own_space = workspace["spaces"][0]["id"]
    answer = api.put("/api/v1/customers/c-1/clickup-space", headers=auth(org=other), json={"space_id": own_space})
    assert answer.status_code == 409
    api.put("/api/v1/customers/c-1/clickup-space", headers=auth(), json={"space_id": own_space})
    assert api.get("/api/v1/customers/c-1/clickup-space", headers=auth()).status_code == 200
    foreign = api.get("/api/v1/customers/c-1/clickup-space", headers=auth(org=other))
    assert foreign.status_code == 404 and own_space not in foreign.text


def test_scheduled_tick_syncs_stale_organisations(api, auth, org_id, workspace, stack) -> None:
    api.put("/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": workspace["token"]})
    first = _synced(api, auth)["synced_at"]
    from bridge.repositories import connections

    connections.set_last_sync(org_id, "2020-01-01T00:00:00Z")  # make it stale
    time.sleep(1.1)
    api.post("/_local/schedules/space-sync-tick/fire")
    # The tick fans out over every organisation of the session, one FIFO group each: allow for the queue
    wait_for(lambda: api.get("/api/v1/clickup/spaces", headers=auth()).json()["synced_at"] != first, timeout_s=90)
    # This test needed its own organisation's sync; the other organisations' are dropped and what is in flight
    # ends here, not in the next tests (a burst of hundreds of syncs kept the local AWS busy for minutes)
    drop_and_drain(stack, "space-sync")


@pytest.mark.parametrize("reason", ["schedule", "first_read"])
def test_a_sync_queued_from_a_stale_read_of_a_fresh_hierarchy_reads_nothing(
    api, auth, org_id, workspace, stack, clickup, reason
) -> None:
    # The tick (or a read racing the first sync) decides from a stale read; a sync completed meanwhile is not
    # repeated.
    api.put("/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": workspace["token"]})
    synced_at = _synced(api, auth)["synced_at"]
    wait_for(lambda: sync_state.get_state(org_id).get("state") == "idle")
    mark = _mark(clickup)
    assert sync_state.claim_request(org_id)
    send(
        stack,
        "space-sync",
        {"kind": "sync", "org_id": org_id, "reason": reason},
        MessageGroupId=org_id,
        MessageDeduplicationId=f"{reason}-{org_id}",
    )
    wait_for(lambda: sync_state.get_state(org_id).get("state") == "idle", timeout_s=30)
    token_reads = [r for r in _requests(clickup, mark) if r["path"].startswith("/api/v2/")]
    assert token_reads == []
    assert api.get("/api/v1/clickup/spaces", headers=auth()).json()["synced_at"] == synced_at


# -- archived items at every depth, under both readings of `archived=true` ----------------------------------------
MIXED = {
    "name": "Mixed",
    "plan": "business",
    "spaces": [
        {
            "name": "Active",
            "folders": [
                {"name": "Open folder", "lists": [{"name": "open/open"}, {"name": "open/archived", "archived": True}]},
                {
                    "name": "Archived folder",
                    "archived": True,
                    "lists": [{"name": "archived/open"}, {"name": "archived/archived", "archived": True}],
                },
            ],
            "lists": [{"name": "loose open"}, {"name": "loose archived", "archived": True}],
        },
        {
            "name": "Shelved",
            "archived": True,
            "folders": [{"name": "Folder in shelved", "lists": [{"name": "shelved/open"}]}],
            "lists": [{"name": "shelved loose"}, {"name": "shelved loose archived", "archived": True}],
        },
        {"name": "Empty"},
    ],
}
# name -> archived, as ClickUp flags each item itself (an item keeps its own flag inside an archived parent)
MIXED_FLAGS = {
    "Active": False,
    "Shelved": True,
    "Empty": False,
    "Open folder": False,
    "Archived folder": True,
    "Folder in shelved": False,
    "open/open": False,
    "open/archived": True,
    "archived/open": False,
    "archived/archived": True,
    "loose open": False,
    "loose archived": True,
    "shelved/open": False,
    "shelved loose": False,
    "shelved loose archived": True,
}


def _mixed_workspace(clickup: httpx.Client, spec: dict) -> dict:
    tag = str(time.monotonic_ns())[-8:]
    user = clickup.post("/_emulator/users", json={"username": f"Mixed {tag}", "email": f"m{tag}@example.com"}).json()
    seeded = clickup.post("/_emulator/seed", json={"user_id": user["id"], "workspace": spec}).json()
    token = clickup.post(f"/_emulator/users/{user['id']}/tokens").json()
    return {"user": user, "token": token["token"], "token_id": token["token_id"], **seeded}


def _flags(org_id: str, team_id: str) -> dict[str, bool]:
    return {r["name"]: bool(r.get("archived")) for r in hierarchy.load(org_id, team_id)}


def test_every_archived_item_is_found_and_flagged_at_every_depth(api, auth, org_id, clickup, archived_reading) -> None:
    ws = _mixed_workspace(clickup, MIXED)
    mark = _mark(clickup)
    flows.connect_with_token(api, auth(), ws["token"])
    wait_for(lambda: sync_state.get_run(org_id, ws["team_id"]).get("status") == "idle", timeout_s=30)
    assert _flags(org_id, ws["team_id"]) == MIXED_FLAGS
    reads = [
        r["path"]
        for r in _requests(clickup, mark, ws["token_id"])
        if r["method"] == "GET" and r["path"].split("/")[-1] in ("space", "folder", "list")
    ]
    assert len(reads) == expected_reads(archived_reading, spaces=3, folders=3), reads
    # what the portal sees: active items only by default; everything with include_archived
    default = api.get("/api/v1/clickup/spaces", headers=auth()).json()
    assert {s["name"]: [f["name"] for f in s["folders"]] for s in default["spaces"]} == {
        "Active": ["Open folder"],
        "Empty": [],
    }
    active = next(s for s in default["spaces"] if s["name"] == "Active")
    assert [x["name"] for x in active["folders"][0]["lists"]] == ["open/open"]
    assert [x["name"] for x in active["lists"]] == ["loose open"]
    everything = api.get("/api/v1/clickup/spaces", headers=auth(), params={"include_archived": "true"}).json()
    names = {s["name"] for s in everything["spaces"]}
    names |= {f["name"] for s in everything["spaces"] for f in s["folders"]}
    names |= {x["name"] for s in everything["spaces"] for f in s["folders"] for x in f["lists"]}
    names |= {x["name"] for s in everything["spaces"] for x in s["lists"]}
    assert names == set(MIXED_FLAGS)


def test_a_workspace_of_archived_spaces_only_proves_nothing_and_still_finds_everything(
    api, auth, org_id, clickup, archived_reading
) -> None:
    # Every answer to archived=true holds archived items only (or nothing): neither reading can be told from
    # them, so each read is paired with its archived=false read under both.
    spec = {
        "name": "Shelf",
        "spaces": [
            {
                "name": "Old",
                "archived": True,
                "folders": [
                    {"name": "Old folder", "archived": True, "lists": [{"name": "old list", "archived": True}]}
                ],
            }
        ],
    }
    ws = _mixed_workspace(clickup, spec)
    mark = _mark(clickup)
    flows.connect_with_token(api, auth(), ws["token"])
    wait_for(lambda: sync_state.get_run(org_id, ws["team_id"]).get("status") == "idle", timeout_s=30)
    assert _flags(org_id, ws["team_id"]) == {"Old": True, "Old folder": True, "old list": True}
    reads = [
        r["path"]
        for r in _requests(clickup, mark, ws["token_id"])
        if r["method"] == "GET" and r["path"].split("/")[-1] in ("space", "folder", "list")
    ]
    assert len(reads) == 2 + 4 + 1, reads  # unproven under both: 2 + 4S + F


@pytest.mark.parametrize("kind", ["list", "folder", "space"])
def test_archiving_at_clickup_reaches_the_store_through_the_refresh(
    api, auth, org_id, clickup, archived_reading, kind
) -> None:
    ws = _mixed_workspace(clickup, MIXED)
    flows.connect_with_token(api, auth(), ws["token"])
    wait_for(lambda: sync_state.get_run(org_id, ws["team_id"]).get("status") == "idle", timeout_s=30)
    active = ws["spaces"][0]
    target = {
        "list": active["folders"][0]["lists"][0],  # open/open, inside an active folder
        "folder": active["folders"][0],
        "space": active,
    }[kind]
    answer = clickup.post(
        "/_emulator/act",
        json={
            "action": "set_archived",
            "kind": kind,
            "id": target["id"],
            "archived": True,
            "user_id": ws["user"]["id"],
        },
    )
    assert answer.status_code == 200, answer.text
    # spaceUpdated / folderUpdated / listUpdated: a targeted refresh of the space re-reads it
    wait_for(lambda: _flags(org_id, ws["team_id"]).get(target["name"]) is True, timeout_s=30)
    assert _flags(org_id, ws["team_id"]) == {**MIXED_FLAGS, target["name"]: True}  # the rest as it was


def test_a_folder_gone_before_its_lists_are_read_does_not_stall_the_run(
    api, auth, org_id, clickup, archived_reading
) -> None:
    # ClickUp answers an id it no longer shows with 401 OAUTH_023: the folder's own read answers nothing and the
    # run completes (it used to be retried for ever). Only "archived items only" reads lists per folder.
    ws = _mixed_workspace(clickup, MIXED)
    open_folder = ws["spaces"][0]["folders"][0]["id"]
    fault = clickup.post(
        "/_emulator/faults",
        json={
            "action": "status",
            "status": 401,
            "body": {"err": "Team(s) not authorized", "ECODE": "OAUTH_023"},
            "path": f"/folder/{open_folder}/list$",
        },
    ).json()
    try:
        flows.connect_with_token(api, auth(), ws["token"])
        wait_for(lambda: sync_state.get_run(org_id, ws["team_id"]).get("status") == "idle", timeout_s=30)
        hits = next(f["hits"] for f in clickup.get("/_emulator/faults").json()["faults"] if f["id"] == fault["id"])
    finally:
        clickup.delete("/_emulator/faults")
    flags = _flags(org_id, ws["team_id"])
    if archived_reading == "all":
        assert hits == 0 and flags == MIXED_FLAGS
    else:  # the archived list only that read would have found is missing; the rest is all there
        assert hits == 1 and flags == {k: v for k, v in MIXED_FLAGS.items() if k != "open/archived"}


def test_archived_lists_and_lists_of_archived_folders_are_neither_assigned_nor_chosen(
    api, auth, org_id, clickup, archived_reading
) -> None:
    # Now that both readings find every archived list, the flags must keep them out of use: an assignment to one is
    # refused, and a customer assigned to a space only gets a list that is live (the first folder here is archived).
    from bridge.repositories import org_settings
    from bridge.tasks import mapping

    spec = {
        "name": "Use",
        "spaces": [
            {
                "name": "Work",
                "folders": [
                    {"name": "Shelf", "archived": True, "lists": [{"name": "in shelf"}]},
                    {"name": "Desk", "lists": [{"name": "retired", "archived": True}, {"name": "live"}]},
                ],
            }
        ],
    }
    ws = _mixed_workspace(clickup, spec)
    flows.connect_with_token(api, auth(), ws["token"])
    wait_for(lambda: sync_state.get_run(org_id, ws["team_id"]).get("status") == "idle", timeout_s=30)
    space = ws["spaces"][0]
    shelf, desk = space["folders"]
    for lst in (shelf["lists"][0], desk["lists"][0]):
        answer = api.put(
            "/api/v1/customers/c-1/clickup-space", headers=auth(), json={"space_id": space["id"], "list_id": lst["id"]}
        )
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "list_archived", lst["name"]
    live = desk["lists"][1]["id"]
    ok = api.put("/api/v1/customers/c-1/clickup-space", headers=auth(), json={"space_id": space["id"], "list_id": live})
    assert ok.status_code == 200
    customer = {"space_id": space["id"], "workspace_id": ws["team_id"], "status": "ok"}
    assert mapping.resolve_list(org_id, customer, org_settings.get(org_id)) == live
    # nor is one a space's default list in the settings
    for lst, status in ((shelf["lists"][0]["id"], 422), (desk["lists"][0]["id"], 422), (live, 200)):
        put = api.put("/api/v1/clickup/settings", headers=auth(), json={"space_default_lists": {space["id"]: lst}})
        assert put.status_code == status, put.text
        assert status == 200 or put.json()["error"]["code"] == "list_archived"


def test_a_refresh_of_a_space_clickup_no_longer_has_sweeps_it(
    api, auth, org_id, clickup, stack, archived_reading, unknown_id_answer
) -> None:
    # The space was deleted at ClickUp and its spaceDeleted delivery lost; a later list event names a list of it.
    # Whichever answer ClickUp gives the gone id (401 OAUTH_023 or 404), the refresh sweeps the space's rows.
    ws = _mixed_workspace(clickup, MIXED)
    flows.connect_with_token(api, auth(), ws["token"])
    wait_for(lambda: sync_state.get_run(org_id, ws["team_id"]).get("status") == "idle", timeout_s=30)
    active = ws["spaces"][0]
    clickup.put("/_emulator/webhooks/delivery", json={"drop_ratio": 1})
    try:
        clickup.post(
            "/_emulator/act",
            json={"action": "delete_item", "kind": "space", "id": active["id"], "user_id": ws["user"]["id"]},
        )
    finally:
        clickup.put("/_emulator/webhooks/delivery", json={"drop_ratio": 0})
    assert "Active" in _flags(org_id, ws["team_id"])
    send(
        stack,
        "space-sync",
        {
            "kind": "refresh",
            "org_id": org_id,
            "workspace_id": ws["team_id"],
            "space_id": None,
            "folder_id": None,
            "list_id": active["lists"][0]["id"],
            "deleted": False,
        },
        MessageGroupId=org_id,
        MessageDeduplicationId=f"refresh-{org_id}",
    )
    gone = {"Active", "Open folder", "Archived folder", "open/open", "open/archived", "archived/open"}
    gone |= {"archived/archived", "loose open", "loose archived"}
    wait_for(lambda: not gone & set(_flags(org_id, ws["team_id"])), timeout_s=30)
    assert _flags(org_id, ws["team_id"]) == {k: v for k, v in MIXED_FLAGS.items() if k not in gone}
