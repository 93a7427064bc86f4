"""Convergence of ClickUp → portal on the local stack: a ClickUp user changes CONVERGENCE_TASKS linked tasks (one
change each, a status or a priority, CONVERGENCE_RATE a second) while the emulator drops 30% of the deliveries
and reorders the rest; then one reconciliation sweep runs. Checked afterwards: every link matches the task's
state at the emulator, and every change reached the portal (its pushed webhook, signed) exactly once. Reported:
the p95 from a ClickUp change to the portal receiving its event, for changes whose delivery was not dropped
(goal <= 2 s), and the sweep's time for the rest."""

from __future__ import annotations

import json
import os
import random
import statistics
import time
import uuid
from datetime import datetime
from typing import Any

from bench.results import percentile_ms, record
from bench.stack import connected_org, start_stack

TASKS = int(os.environ.get("CONVERGENCE_TASKS", "500"))
DROP_RATIO = 0.3
REORDER_RATIO = 1.0  # "reordering the rest": every delivery that is not dropped is held back behind the next one
SEED = int(os.environ.get("CONVERGENCE_SEED", "5"))
# A user changing a task every 200 ms (2 deliveries a change). The local stack runs every function in one
# interpreter on 2 cores and saturates between 5 and 10 changes/s; above that the figure measures its queues.
CHANGES_PER_S = float(os.environ.get("CONVERGENCE_RATE", "5"))
STATUSES = ["new", "doing", "done"]
PRIORITIES = {1: "urgent", 2: "high", 3: "normal", 4: "low"}


def _wait(predicate: Any, timeout_s: float, what: str) -> Any:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def run() -> dict[str, Any]:
    rng = random.Random(SEED)
    stack = start_stack(run_schedules=False)
    try:
        statuses = [
            {"status": "new", "type": "open"},
            {"status": "doing", "type": "custom"},
            {"status": "done", "type": "closed"},
        ]
        org = connected_org(stack, "converge", plan="enterprise", statuses=statuses)
        api, clickup, org_id, auth = org["api"], org["clickup"], org["org_id"], org["auth"]
        user, seeded = org["user"], org["seeded"]
        api.post("/api/v1/clickup/portal-webhook/secret", headers=auth).raise_for_status()
        current = api.get("/api/v1/clickup/settings", headers=auth).json()
        receiver = f"{stack.api_url}/_local/portal/events"
        api.put("/api/v1/clickup/settings", headers=auth, json={**current, "portal_webhook_url": receiver})

        # The linked tasks (through the task pipeline)
        tickets = [str(uuid.uuid4()) for _ in range(TASKS)]
        for ticket_id in tickets:
            body = {"title": "Converge", "priority": "normal", "customer_id": "c-1"}
            api.post(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth, json=body).raise_for_status()

        def link(ticket_id: str) -> dict[str, Any]:
            return dict(api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth).json())

        def links() -> dict[str, dict[str, Any]]:
            return {ticket_id: link(ticket_id) for ticket_id in tickets}

        def settled(check: Any, timeout_s: float, what: str) -> dict[str, dict[str, Any]]:
            """Every ticket's link once `check` holds for it; a settled link is not read again."""
            done: dict[str, dict[str, Any]] = {}
            deadline = time.time() + timeout_s
            while len(done) < len(tickets):
                if time.time() > deadline:
                    raise RuntimeError(f"timed out waiting for {what} ({len(done)}/{len(tickets)})")
                for ticket_id in tickets:
                    if ticket_id not in done and check(ticket_id, value := link(ticket_id)):
                        done[ticket_id] = value
                if len(done) < len(tickets):
                    time.sleep(0.5)
            return done

        created = settled(lambda _t, v: v["state"] == "created", 900, "every task to be created")
        task_of = {t: v["task_id"] for t, v in created.items()}
        hook = next(
            h
            for h in clickup.get("/_emulator/webhooks").json()["webhooks"]
            if str(h["team_id"]) == str(seeded["team_id"])
        )
        _wait(
            lambda: clickup.get("/_emulator/deliveries", params={"webhook_id": hook["id"]}).json()["idle"],
            120,
            "the creation deliveries",
        )
        time.sleep(2)
        baseline = len(api.get("/_local/portal/events", params={"org": org_id}).json()["received"])

        # A ClickUp user changes every task once, under dropped and reordered deliveries
        creation_deliveries = len(
            clickup.get("/_emulator/deliveries", params={"webhook_id": hook["id"]}).json()["deliveries"]
        )
        clickup.put("/_emulator/webhooks/delivery", json={"drop_ratio": DROP_RATIO, "reorder_ratio": REORDER_RATIO})
        changed_at: dict[str, float] = {}
        expected: dict[str, tuple[str, Any]] = {}
        for ticket_id in tickets:
            task_id = task_of[ticket_id]
            if rng.random() < 0.5:
                status = rng.choice(["doing", "done"])
                act = {"action": "set_status", "task_id": task_id, "status": status}
                expected[task_id] = ("status", status)
            else:
                priority = rng.choice([1, 2, 4])
                act = {"action": "set_priority", "task_id": task_id, "priority": priority}
                expected[task_id] = ("priority", PRIORITIES[priority])
            changed_at[task_id] = time.time()
            clickup.post("/_emulator/act", json={"user_id": user["id"], **act}).raise_for_status()
            time.sleep(max(0.0, changed_at[task_id] + 1 / CHANGES_PER_S - time.time()))
        _wait(
            lambda: clickup.get("/_emulator/deliveries", params={"webhook_id": hook["id"]}).json()["idle"],
            300,
            "the deliveries",
        )
        time.sleep(3)  # the processor drains its queue
        deliveries = clickup.get("/_emulator/deliveries", params={"webhook_id": hook["id"]}).json()["deliveries"]
        deliveries = deliveries[creation_deliveries:]  # the changes' own (2 per change: granular + taskUpdated)
        clickup.put("/_emulator/webhooks/delivery", json={"drop_ratio": 0, "reorder_ratio": 0})

        def pushed() -> list[dict[str, Any]]:
            items = api.get("/_local/portal/events", params={"org": org_id}).json()["received"][baseline:]
            return [{**json.loads(i["body"]), "_at": i["at"]} for i in items]

        before_sweep = {e["task_id"] for e in pushed() if e["type"].startswith("clickup.task.") and e.get("task_id")}
        # One sweep
        sweep_started = time.time()
        stack.aws.client("sqs").send_message(
            QueueUrl=stack.provisioned.queue_urls["maintenance"],
            MessageBody=json.dumps({"kind": "sweep", "org_id": org_id}),
            MessageGroupId=org_id,
            MessageDeduplicationId=uuid.uuid4().hex,
        )

        def matches(ticket_id: str, value: dict[str, Any]) -> bool:
            field, wanted = expected[task_of[ticket_id]]
            return bool(value[field] == wanted)

        try:
            settled(matches, 300, "every link to match ClickUp")
            sweep_s: float | None = time.time() - sweep_started
        except RuntimeError:
            sweep_s = None
        time.sleep(8)  # pushes in flight (and a retry, should one be needed) land
        events = [e for e in pushed() if e["type"] in ("clickup.task.status_changed", "clickup.task.priority_changed")]
        per_task: dict[str, int] = {}
        for e in events:
            per_task[e["task_id"]] = per_task.get(e["task_id"], 0) + 1
        with stack.emulator.emulator.backend.lock:
            truth = {
                t.id: (t.status.status, PRIORITIES.get(t.priority or 0))
                for t in stack.emulator.emulator.backend.tasks.values()
            }
        final = links()
        mismatched = [t for t in tickets if (final[t]["status"], final[t]["priority"]) != truth.get(task_of[t])]
        via_webhook = [e for e in events if e["task_id"] in before_sweep]

        def latencies(pushed_events: list[dict[str, Any]]) -> list[float]:
            return [e["_at"] - changed_at[e["task_id"]] for e in pushed_events]

        webhook_latency = latencies(via_webhook)
        # where the time goes: ClickUp change -> event published (delivery, queue, processing), then -> portal
        published = {e["id"]: datetime.fromisoformat(e["occurred_at"]).timestamp() for e in via_webhook}
        to_published = [published[e["id"]] - changed_at[e["task_id"]] for e in via_webhook]
        to_portal = [e["_at"] - published[e["id"]] for e in via_webhook]
        order = sorted(via_webhook, key=lambda e: changed_at[e["task_id"]])
        tenth = max(1, len(order) // 10)
        first, last = order[:tenth], order[-tenth:]
        figures = {
            "tasks": TASKS,
            "changes": len(expected),
            "drop_ratio": DROP_RATIO,
            "reorder_ratio": REORDER_RATIO,
            "changes_per_s": CHANGES_PER_S,
            "deliveries": {
                "total": len(deliveries),
                "dropped": sum(1 for d in deliveries if d["outcome"] == "discarded"),
                "delivered": sum(1 for d in deliveries if d["outcome"] == "delivered"),
            },
            "links_matching_clickup": TASKS - len(mismatched),
            "links_mismatched": len(mismatched),
            "changes_reported_once": sum(1 for t in expected if per_task.get(t) == 1),
            "changes_reported_twice_or_more": sum(1 for t in expected if per_task.get(t, 0) > 1),
            "changes_never_reported": sum(1 for t in expected if per_task.get(t, 0) == 0),
            "repaired_by_the_sweep": len(set(expected) - before_sweep),
            "sweep_to_convergence_s": round(sweep_s, 1) if sweep_s is not None else None,
            "change_to_portal_ms_via_webhook": {
                "p50": percentile_ms(webhook_latency, 0.5),
                "p95": percentile_ms(webhook_latency, 0.95),
                "max": percentile_ms(webhook_latency, 1.0),
                "mean": round(statistics.mean(webhook_latency) * 1000, 1) if webhook_latency else None,
                "change_to_published_p50_p95": [percentile_ms(to_published, 0.5), percentile_ms(to_published, 0.95)],
                "published_to_portal_p50_p95": [percentile_ms(to_portal, 0.5), percentile_ms(to_portal, 0.95)],
                "first_tenth_of_changes_p95": percentile_ms(latencies(first), 0.95),
                "last_tenth_of_changes_p95": percentile_ms(latencies(last), 0.95),
            },
            "goals": {"change_to_portal_p95_ms": 2000, "links_mismatched": 0, "changes_not_reported_once": 0},
        }
    finally:
        stack.stop()
    record("webhook_convergence", figures)
    return figures


if __name__ == "__main__":
    run()
