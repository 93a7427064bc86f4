"""Webhooks out of the emulator: signed deliveries, ClickUp's event sequences, retries, health, OAUTH_171."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest

from bridge.clickup.client import ClickUpClient
from bridge.clickup.errors import Permanent
from tests.conftest import shared_clickup, wait_for
from tests.receiver import Receiver


def _hook(client: ClickUpClient, workspace: dict, receiver: Receiver, events: list[str] | None = None):
    return client.create_webhook(workspace["team_id"], receiver.url, events or ["*"])


def _inbox(workspace: dict) -> str:
    return workspace["spaces"][0]["lists"][0]["id"]


def test_delivery_is_signed_over_the_exact_body_with_the_secret_from_creation(workspace: dict) -> None:
    client = ClickUpClient(workspace["token"])
    with Receiver() as receiver:
        hook = _hook(client, workspace, receiver)
        assert hook.secret and hook.health.status == "active"
        task = client.create_task(_inbox(workspace), {"name": "signed é ✓"})
        created = wait_for(lambda: receiver.events("taskCreated"))[0]
        expected = hmac.new(hook.secret.encode(), created.body, hashlib.sha256).hexdigest()
        assert created.headers["X-Signature"] == expected
        payload = created.json
        assert payload["webhook_id"] == hook.id and payload["task_id"] == task.id
        assert payload["team_id"] == workspace["team_id"]
        item = payload["history_items"][0]
        assert item["id"].isdigit() and item["date"].isdigit() and item["parent_id"] == _inbox(workspace)


def test_event_sequences_match_clickup(workspace: dict, clickup: httpx.Client) -> None:
    client = ClickUpClient(workspace["token"])
    inbox, other = _inbox(workspace), workspace["spaces"][0]["folders"][0]["lists"][1]["id"]
    with Receiver() as receiver:
        _hook(client, workspace, receiver)
        task = client.create_task(inbox, {"name": "seq"})
        wait_for(lambda: receiver.events("taskStatusUpdated"))  # taskCreated is followed by taskStatusUpdated
        client.update_task(task.id, {"status": "doing", "priority": 1})
        wait_for(lambda: receiver.events("taskUpdated") and receiver.events("taskPriorityUpdated"))
        # each event is its own delivery: the granular one may arrive after the generic one
        granular = wait_for(
            lambda: next(
                (
                    e.json["history_items"][0]
                    for e in receiver.events("taskStatusUpdated")
                    if e.json["history_items"][0]["after"]["status"] == "doing"
                ),
                None,
            )
        )
        generic_ids = {i["id"] for i in receiver.events("taskUpdated")[-1].json["history_items"]}
        assert granular["after"]["status"] == "doing" and granular["id"] in generic_ids
        clickup.post("/_emulator/act", json={"action": "comment", "task_id": task.id, "text": "hi"})
        clickup.post("/_emulator/act", json={"action": "move", "task_id": task.id, "list_id": other})
        clickup.post("/_emulator/act", json={"action": "rename", "kind": "list", "id": inbox, "name": "Inbox 2"})
        clickup.post("/_emulator/act", json={"action": "delete", "task_id": task.id})
        wait_for(
            lambda: (
                receiver.events("taskDeleted")
                and receiver.events("listUpdated")
                and receiver.events("taskMoved")
                and receiver.events("taskCommentPosted")
            )
        )
        assert receiver.events("taskMoved")[0].json["history_items"][0]["after"]["id"] == other
        assert receiver.events("listUpdated")[0].json["list_id"] == inbox
        # as ClickUp's listUpdated sample shows it: a list history item (type 6) whose parent_id is the list itself
        sample = json.loads(shared_clickup("webhook-samples", "listUpdated.json").read_text())["history_items"][0]
        renamed = receiver.events("listUpdated")[0].json["history_items"][0]
        assert set(renamed) == set(sample)
        assert (renamed["type"], renamed["parent_id"], renamed["field"]) == (sample["type"], inbox, "name")
        assert (renamed["before"], renamed["after"]) == ("Inbox", "Inbox 2")


def test_five_failed_tries_then_the_event_is_dropped_and_health_is_failing(
    workspace: dict, clickup: httpx.Client
) -> None:
    clickup.put("/_emulator/webhooks/delivery", json={"retry_delays_s": [0.05, 0.05, 0.05, 0.05]})
    try:
        client = ClickUpClient(workspace["token"])
        with Receiver(status=500) as receiver:
            hook = _hook(client, workspace, receiver, ["taskCreated"])
            client.create_task(_inbox(workspace), {"name": "doomed"})
            deliveries = wait_for(
                lambda: [
                    d
                    for d in clickup.get("/_emulator/deliveries", params={"webhook_id": hook.id}).json()["deliveries"]
                    if d["outcome"] == "dropped"
                ]
            )
            assert deliveries[0]["tries"] == 5 and deliveries[0]["statuses"] == [500] * 5
            assert len(receiver.received) == 5
            (listed,) = [h for h in client.get_webhooks(workspace["team_id"]) if h.id == hook.id]
            assert listed.health.status == "failing" and listed.health.fail_count == 1

            receiver.status = 410  # gone: suspended at once
            client.create_task(_inbox(workspace), {"name": "gone"})
            wait_for(
                lambda: [
                    h
                    for h in client.get_webhooks(workspace["team_id"])
                    if h.id == hook.id and h.health.status == "suspended"
                ]
            )
            receiver.status = 200
            revived = client.update_webhook(hook.id, receiver.url, ["taskCreated"], status="active")
            assert revived.health.status == "active" and revived.health.fail_count == 0
            client.create_task(_inbox(workspace), {"name": "back"})
            wait_for(lambda: any(r.json["event"] == "taskCreated" for r in receiver.received[-1:]))
    finally:
        clickup.put("/_emulator/webhooks/delivery", json={"retry_delays_s": [1, 2, 4, 8]})


def test_duplicate_webhook_configuration_is_oauth_171(workspace: dict) -> None:
    client = ClickUpClient(workspace["token"])
    with Receiver() as receiver:
        _hook(client, workspace, receiver)
        with pytest.raises(Permanent) as exists:
            _hook(client, workspace, receiver)
        assert exists.value.ecode == "OAUTH_171"


def test_deliveries_can_be_dropped_and_duplicated(workspace: dict, clickup: httpx.Client) -> None:
    client = ClickUpClient(workspace["token"])
    with Receiver() as receiver:
        hook = _hook(client, workspace, receiver, ["taskCreated"])
        clickup.put("/_emulator/webhooks/delivery", json={"duplicate_ratio": 1.0})
        try:
            client.create_task(_inbox(workspace), {"name": "twice"})
            wait_for(lambda: len(receiver.events("taskCreated")) == 2)
            assert receiver.received[0].body == receiver.received[1].body
            clickup.put("/_emulator/webhooks/delivery", json={"duplicate_ratio": 0.0, "drop_ratio": 1.0})
            client.create_task(_inbox(workspace), {"name": "never"})
            wait_for(
                lambda: any(
                    d["outcome"] == "discarded"
                    for d in clickup.get("/_emulator/deliveries", params={"webhook_id": hook.id}).json()["deliveries"]
                )
            )
            assert len(receiver.events("taskCreated")) == 2
        finally:
            clickup.put("/_emulator/webhooks/delivery", json={"duplicate_ratio": 0.0, "drop_ratio": 0.0})
    assert json.loads(receiver.received[0].body)["event"] == "taskCreated"


def test_a_delivery_waiting_for_its_retry_holds_up_no_other(workspace: dict, clickup: httpx.Client) -> None:
    """ClickUp keeps sending while earlier deliveries wait for their retry (or are held back to reorder). The
    emulator's 4 senders used to sleep through those waits: 5 failed deliveries to one endpoint, each waiting a
    minute for its retry, held every other webhook's deliveries for that minute."""
    clickup.put("/_emulator/webhooks/delivery", json={"retry_delays_s": [60, 60, 60, 60]})
    client = ClickUpClient(workspace["token"])
    try:
        with Receiver(status=500) as failing, Receiver() as healthy:
            broken = _hook(client, workspace, failing, ["taskCreated"])
            for n in range(5):
                client.create_task(_inbox(workspace), {"name": f"retried later {n}"})
            wait_for(lambda: len(failing.events("taskCreated")) == 5)  # each failed once, now waits 60 s
            assert not clickup.get("/_emulator/deliveries", params={"webhook_id": broken.id}).json()["idle"]
            hook = _hook(client, workspace, healthy, ["taskCreated"])
            task = client.create_task(_inbox(workspace), {"name": "not held up"})
            arrived = wait_for(lambda: healthy.events("taskCreated"))
            assert arrived[0].json["task_id"] == task.id
            # the receiver records a delivery before answering it: the emulator marks it delivered just after
            wait_for(lambda: clickup.get("/_emulator/deliveries", params={"webhook_id": hook.id}).json()["idle"])
            client.delete_webhook(broken.id)  # its retries find no webhook and are dropped
    finally:
        clickup.put("/_emulator/webhooks/delivery", json={"retry_delays_s": [1, 2, 4, 8]})
