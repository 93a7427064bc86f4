"""A long ClickUp outage, time-scaled (issue 16, item 6): ClickUp answers 503 to every request of one
organisation for `OUTAGE_MINUTES` simulated minutes (default 120, far beyond the back-off chain's ~34 minutes)
while the portal keeps working: tickets are accepted, changes and comments accepted on an existing task, a
hierarchy sync requested, and the portal itself is down twice as long (the events of the recovered work wait
for it). Then both come
back, and the benchmark reports per consumer what was accepted, applied exactly once, failed visibly and lost
(left on a DLQ, or never applied), the time to recover, and how often ClickUp was asked meanwhile; with the
outage each consumer rides out by its policy (`bridge/queueing/outage.py`).

`OUTAGE_SCALE` (default 0.005, as the tests): every queue delay, visibility timeout and back-off is multiplied by
it, so 120 simulated minutes last 36 s. `OUTAGE_TICKETS` (default 5), `OUTAGE_CHANGES` (default 3)."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

from bench.results import record
from bench.stack import connected_org, start_stack

SCALE = float(os.environ.get("OUTAGE_SCALE", "0.005"))
OUTAGE_MINUTES = float(os.environ.get("OUTAGE_MINUTES", "120"))
TICKETS = int(os.environ.get("OUTAGE_TICKETS", "5"))
CHANGES = int(os.environ.get("OUTAGE_CHANGES", "3"))
PRIORITIES = ("urgent", "high", "low", "normal")


def _link(api: Any, auth: dict[str, str], ticket_id: str) -> dict[str, Any]:
    return dict(api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth).json())


def _dlq_count(stack: Any, queue: str, org_id: str) -> int:
    sqs = stack.aws.client("sqs")
    got = sqs.receive_message(
        QueueUrl=stack.provisioned.dlq_urls[queue], MaxNumberOfMessages=10, VisibilityTimeout=0
    ).get("Messages", [])
    return sum(1 for m in got if org_id in m["Body"])


def _wait(predicate: Any, timeout_s: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def run() -> dict[str, Any]:
    from bridge.queueing.outage import CLICKUP_OUTAGE, PORTAL_OUTAGE

    stack = start_stack(run_schedules=False, time_scale=SCALE)
    try:
        org = connected_org(stack, "outage", plan="enterprise")  # the scaled tries must not spend the budget
        api, clickup, auth, org_id = org["api"], org["clickup"], org["auth"], org["org_id"]
        settings = api.get("/api/v1/clickup/settings", headers=auth).json()
        receiver = f"{stack.api_url}/_local/portal/events"
        api.put(
            "/api/v1/clickup/settings", headers=auth, json={**settings, "portal_webhook_url": receiver}
        ).raise_for_status()
        api.post("/api/v1/clickup/portal-webhook/secret", headers=auth).raise_for_status()
        feed_before = {
            e["id"] for e in api.get("/api/v1/clickup/events", headers=auth, params={"limit": 500}).json()["events"]
        }
        body = {"title": "Outage", "priority": "normal", "customer_id": "c-1"}
        existing = str(uuid.uuid4())
        api.post(f"/api/v1/tickets/{existing}/clickup-task", headers=auth, json=body).raise_for_status()
        _wait(lambda: _link(api, auth, existing).get("state") == "created", 30)
        synced_before = api.get("/api/v1/clickup/spaces", headers=auth).json()["synced_at"]

        # -- the outage ------------------------------------------------------------------------------------
        clickup.post("/_emulator/faults", json={"action": "status", "status": 503, "path": ".*"}).raise_for_status()
        stack.portal.fail_next = 10**9
        outage_started = time.monotonic()
        tickets = [str(uuid.uuid4()) for _ in range(TICKETS)]
        for ticket_id in tickets:
            api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth, json=body).raise_for_status()
        wanted = [PRIORITIES[n % len(PRIORITIES)] for n in range(CHANGES)]
        for priority in wanted:
            api.patch(
                f"/api/v1/tickets/{existing}/clickup-task", headers=auth, json={"priority": priority}
            ).raise_for_status()
        comments = [f"outage comment {n} {uuid.uuid4().hex[:6]}" for n in range(CHANGES)]
        for text in comments:
            api.post(
                f"/api/v1/tickets/{existing}/clickup-task/comments", headers=auth, json={"text": text}
            ).raise_for_status()
        api.post("/api/v1/clickup/sync", headers=auth).raise_for_status()
        time.sleep(max(0.0, OUTAGE_MINUTES * 60 * SCALE - (time.monotonic() - outage_started)))
        during = [
            r for r in clickup.get("/_emulator/requests", params={"since": 0}).json()["requests"] if r["status"] == 503
        ]
        failed_during = sum(1 for t in tickets if _link(api, auth, t).get("state") == "failed")

        # -- ClickUp and the portal come back ----------------------------------------------------------------
        clickup.delete("/_emulator/faults")
        back = time.monotonic()
        created_s = _wait(lambda: all(_link(api, auth, t).get("state") == "created" for t in tickets), 120)
        applied_s = _wait(lambda: _link(api, auth, existing).get("pending_changes") == 0, 120)
        synced_s = _wait(
            lambda: api.get("/api/v1/clickup/spaces", headers=auth).json()["synced_at"] != synced_before, 120
        )
        # The portal stays down as long again: the events of the recovered work wait for it.
        time.sleep(max(0.0, OUTAGE_MINUTES * 60 * SCALE - (time.monotonic() - back)))
        stack.portal.fail_next = 0
        portal_back = time.monotonic()
        feed = [
            e["id"]
            for e in api.get("/api/v1/clickup/events", headers=auth, params={"limit": 500}).json()["events"]
            if e["id"] not in feed_before
        ]

        def _pushed() -> list[str]:
            return [r["event_id"] for r in api.get("/_local/portal/events", params={"org": org_id}).json()["received"]]

        def _all_pushed() -> bool:
            return set(feed) <= set(_pushed())

        pushed_s = _wait(_all_pushed, 120)
        portal_down_min = (portal_back - outage_started) / SCALE / 60
        backend = stack.emulator.emulator.backend
        with backend.lock:
            tasks = [t for t in backend.tasks.values() if t.name.startswith("[TICKET-")]
            names = [t.name for t in tasks]
            existing_task = next(t for t in tasks if t.name.startswith(f"[TICKET-{existing}]"))
            task_comments = [c.text for c in backend.comments.get(existing_task.id, [])]
        created_once = sum(1 for t in tickets if sum(n.startswith(f"[TICKET-{t}]") for n in names) == 1)
        comments_once = sum(1 for text in comments if task_comments.count(text) == 1)
        link = _link(api, auth, existing)
        simulated = OUTAGE_MINUTES
        figures = {
            "time_scale": SCALE,
            "outage_simulated_min": simulated,
            "outage_real_s": round(back - outage_started, 1),
            "clickup_requests_refused_during_outage": len(during),
            "clickup_requests_per_record_per_simulated_hour": round(
                len(during) / max(1, TICKETS + 2 * CHANGES + 1) / (simulated / 60), 1
            ),
            "back_off_chain_simulated_min": round(CLICKUP_OUTAGE.longest_chain_s / 60, 1),
            "consumers": {
                "task-create (create)": {
                    "rides_out": f"{CLICKUP_OUTAGE.give_up_after_s // 86400} days, then failed clickup_unavailable",
                    "accepted": TICKETS,
                    "created_exactly_once": created_once,
                    "failed_during_outage": failed_during,
                    "dead_lettered": _dlq_count(stack, "task-create", org_id),
                    "recovered_real_s": None if created_s is None else round(created_s, 1),
                },
                "task-create (changes, comments)": {
                    "rides_out": f"{CLICKUP_OUTAGE.give_up_after_s // 86400} days, then change_failed (retry route)",
                    "accepted": 2 * CHANGES,
                    "pending_after_recovery": link.get("pending_changes"),
                    "last_priority_applied": link.get("priority") == wanted[-1],
                    "comments_exactly_once": comments_once,
                    "recovered_real_s": None if applied_s is None else round(applied_s, 1),
                },
                "space-sync": {
                    "rides_out": f"{CLICKUP_OUTAGE.give_up_after_s // 86400} days, then the DLQ (the tick re-queues)",
                    "synced_after_recovery": synced_s is not None,
                    "dead_lettered": _dlq_count(stack, "space-sync", org_id),
                    "recovered_real_s": None if synced_s is None else round(synced_s, 1),
                },
                "portal-events (the portal down twice as long)": {
                    "portal_down_simulated_min": round(portal_down_min),
                    "rides_out": f"{PORTAL_OUTAGE.give_up_after_s // 86400} days, then the DLQ (feed: 30 days)",
                    "events_recorded": len(feed),
                    "pushed": len(set(feed) & set(_pushed())),
                    "pushed_more_than_once": sum(1 for e in feed if _pushed().count(e) > 1),
                    "recovered_real_s": None if pushed_s is None else round(pushed_s, 1),
                },
                "webhook-events": {
                    "rides_out": f"{CLICKUP_OUTAGE.give_up_after_s // 86400} days (thin payloads' reads), then the DLQ"
                    " (the sweep repairs)",
                },
                "maintenance": {
                    "rides_out": f"{CLICKUP_OUTAGE.give_up_after_s // 86400} days, then the DLQ (the next tick reruns)",
                },
            },
        }
        record("outage", figures)
        return figures
    finally:
        stack.stop()
