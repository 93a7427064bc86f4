"""Fault runs of the task pipeline: randomized runs over the local components (moto's SQS FIFO queue and
DynamoDB, the vault, the limiter, the worker) and the ClickUp emulator's fault injection. Each run is one ticket:
accepted (maybe twice), maybe changed and commented before or after its task exists, delivered through the real
queue with faults drawn at random:

- duplicate POSTs and duplicate deliveries of the same message;
- ClickUp 5xx on the creation, lost responses (ClickUp created the task, the worker never heard), 429s;
- the worker dying (a BaseException, as a killed runtime) before or after any of its writes;
- the token revoked mid-way, then the organisation reconnecting.

After each run the queue is drained and the invariant is checked from the emulator's own state: exactly one task
for the ticket, named and placed correctly, every accepted change applied in order (the final status and priority
are the last accepted ones), every accepted comment posted exactly once, nothing left pending.

Time passes faster than in Lambda: a record that failed is visible again at once, the lease a dead worker held
is expired by the harness (its invocation's deadline having passed), the client's backoff is 100x shorter, and a
request times out after ~0.6 s (a lost response is one the client stopped waiting for).
"""

from __future__ import annotations

import os
import random
import sys
import time
import uuid
from collections import Counter
from typing import Any

import httpx

from bench.results import record
from bench.stack import start_stack

RUNS = int(os.environ.get("FAULT_RUNS", "10000"))
SEED = int(os.environ.get("FAULT_SEED", "7"))
WORKERS = max(1, int(os.environ.get("FAULT_WORKERS", str(os.cpu_count() or 1))))
ORG_RUNS = 100
STATUSES = ["new", "doing", "done"]
LOST_AFTER_S = 0.6  # the client's per-request timeout here; the emulator withholds a lost answer longer


def REMAINING_S() -> float:
    from bridge.clickup.client import SAFETY_MARGIN_S

    return SAFETY_MARGIN_S + LOST_AFTER_S


class Crash(BaseException):
    """The worker's process dies here (not an Exception: nothing in the worker may catch it)."""


def _patiently(action: Any) -> Any:
    """An admin's call answered 429 (budget spent) is tried again after the reset."""
    from bridge.clickup.errors import RateLimited

    while True:
        try:
            return action()
        except RateLimited as held:
            time.sleep(max(0.0, held.reset_at - time.time()))


class Harness:
    def __init__(self) -> None:
        os.environ["CLICKUP_RATE_WINDOW_S"] = "0.5"
        self.stack = start_stack(run_pollers=False, run_schedules=False, aws_in_process=True)
        self.emu = self.stack.emulator.emulator
        self.clickup = httpx.Client(base_url=self.stack.emulator.url, timeout=30)
        self.clickup.put("/_emulator/limits", json={"window_s": 0.5, "reset_unit": "ms"})
        # ClickUp's webhooks are not what these runs check, and this harness runs no pollers: deliveries would only
        # pile up on the webhook queue and cost this process a verification each (measured: runs 3x slower by
        # run 1,500). They are dropped at the emulator.
        self.clickup.put("/_emulator/webhooks/delivery", json={"drop_ratio": 1})
        self.sqs = self.stack.aws.client("sqs")
        self.queue_url = self.stack.provisioned.queue_urls["task-create"]
        self.faults: Counter[str] = Counter()
        self.crash_after: int | None = None  # the worker dies at its N-th step boundary of the run
        self.in_worker = False  # crash points only fire inside the worker, as only the worker can die there
        self.crossings = 0
        self._setup_org()
        self._instrument()
        self._compress_time()

    # -- world ----------------------------------------------------------------------------------------------
    def _setup_org(self, k: int = 0) -> None:
        """A fresh organisation (and ClickUp user) every ORG_RUNS runs: one organisation's partition growing by
        tens of thousands of rows would make moto's queries, not the pipeline, the thing measured."""
        from bridge.api.principal import Principal
        from bridge.lifecycle import connection as lifecycle
        from bridge.sync import customers
        from bridge.sync import service as sync

        user = self.clickup.post("/_emulator/users", json={"username": "Faulty", "email": "f@bench.example"}).json()
        self.user_id = user["id"]
        statuses = [
            {"status": "new", "type": "open"},
            {"status": "doing", "type": "custom"},
            {"status": "done", "type": "closed"},
        ]
        seeded = self.clickup.post(
            "/_emulator/seed",
            json={
                "user_id": user["id"],
                "workspace": {
                    "name": "WS faults",
                    "plan": "business",
                    "spaces": [{"name": "Support", "lists": [{"name": "Inbox", "statuses": statuses}]}],
                },
            },
        ).json()
        self.space_id = seeded["spaces"][0]["id"]
        self.list_id = seeded["spaces"][0]["lists"][0]["id"]
        self.org_id = f"bench-faults-{k}"
        self.principal = Principal(org_id=self.org_id, user_id="agent-1", role="admin")
        token = self._new_token()
        _patiently(lambda: lifecycle.connect_with_token(self.org_id, token, "personal_token"))
        _patiently(lambda: sync.run_full_sync(self.org_id, remaining_s=lambda: 900.0))
        customers.assign(self.org_id, "cust-1", self.space_id, self.list_id)

    def _new_token(self) -> str:
        return str(self.clickup.post(f"/_emulator/users/{self.user_id}/tokens").json()["token"])

    def _instrument(self) -> None:
        """Crash points between every two steps of the worker: before and after each of its writes and calls."""
        from bridge.tasks import worker

        targets = {
            "links.save": (worker.ticket_links, "save"),
            "links.index_task": (worker.ticket_links, "index_task"),
            "ops.done": (worker.ticket_ops, "done"),
            "ops.update": (worker.ticket_ops, "update"),
            "audit.record": (worker.audit, "record"),
            "echo.mark": (worker.echo_marks, "mark"),
            "publish": (worker, "publish"),
        }
        for name, (owner, attr) in targets.items():
            original = getattr(owner, attr)
            setattr(owner, attr, self._crashing(name, original))
        from bridge.clickup.client import ClickUpClient

        for method in ("create_task", "update_task", "add_comment", "set_custom_field"):
            setattr(ClickUpClient, method, self._crashing(f"clickup.{method}", getattr(ClickUpClient, method)))

    def _compress_time(self) -> None:
        from bridge.clickup import client as clickup_client

        original = clickup_client.ClickUpClient.__init__

        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **{**kwargs, "backoff_base_s": 0.002, "backoff_cap_s": 0.04})

        clickup_client.ClickUpClient.__init__ = init  # type: ignore[method-assign]

    def _crashing(self, name: str, original: Any) -> Any:
        harness = self

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            harness._maybe_crash(f"{name}:before")
            result = original(*args, **kwargs)
            harness._maybe_crash(f"{name}:after")
            return result

        return wrapper

    def _maybe_crash(self, point: str) -> None:
        if not self.in_worker or self.crash_after is None:
            return
        self.crossings += 1
        if self.crossings == self.crash_after:
            self.crash_after = None
            self.faults[f"crash {point}"] += 1
            raise Crash(point)

    # -- the queue ------------------------------------------------------------------------------------------
    def _expire_lease(self, ticket_id: str) -> None:
        from bridge.repositories import ticket_links

        link = ticket_links.get(self.org_id, ticket_id)
        if link and link.get("attempt"):
            link["attempt"]["lease_until"] = 0
            ticket_links.save(link)

    def drain(self, rng: random.Random, ticket_id: str) -> None:
        from bridge.clickup.errors import RateLimited, TokenRevoked, Transient
        from bridge.queueing.messages import task_message_adapter
        from bridge.tasks import worker

        idle = 0
        while idle < 2:
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=30,
                AttributeNames=["MessageGroupId"],
            )
            messages = answer.get("Messages", [])
            if not messages:
                if self._needs_reconnect():
                    self._reconnect()
                    continue
                idle += 1
                continue
            idle = 0
            failed_groups: set[str] = set()
            for m in messages:
                group = m["Attributes"]["MessageGroupId"]
                if group in failed_groups:
                    self._release(m)
                    continue
                deliveries = 2 if rng.random() < 0.1 else 1
                ok = True
                for _ in range(deliveries):
                    if deliveries == 2:
                        self.faults["duplicate delivery"] += 1
                    self.in_worker = True
                    try:
                        worker.handle(task_message_adapter.validate_json(m["Body"]), remaining_s=REMAINING_S)
                    except Crash:
                        self._expire_lease(ticket_id)  # the dead invocation's deadline passes
                        ok = False
                    except (RateLimited, worker.Busy) as held:
                        time.sleep(max(0.0, min(1.0, held.reset_at - time.time())))
                        ok = False
                    except Transient:
                        ok = False
                    except TokenRevoked:
                        ok = False
                    finally:
                        self.in_worker = False
                    if not ok:
                        break
                if ok:
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
                else:
                    failed_groups.add(group)
                    self._release(m)

    def _release(self, m: dict[str, Any]) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
        )

    def _needs_reconnect(self) -> bool:
        from bridge.connection import service as connection

        return connection.current(self.org_id).status == connection.NEEDS_REAUTH

    def _reconnect(self) -> None:
        from bridge.lifecycle import connection as lifecycle

        token = self._new_token()
        _patiently(lambda: lifecycle.connect_with_token(self.org_id, token, "personal_token"))
        self.faults["reconnect"] += 1

    # -- one run --------------------------------------------------------------------------------------------
    def run_once(self, rng: random.Random, n: int) -> list[str]:
        from bridge.connection import service as connection
        from bridge.repositories import ticket_links
        from bridge.tasks import service as tasks

        ticket_id = str(uuid.uuid4())
        title = f"Run {n}"
        ticket = {
            "title": title,
            "priority": rng.choice(["urgent", "high", "normal", "low"]),
            "customer_id": "cust-1",
            "tags": [],
            "fields": {},
        }
        self._draw_clickup_faults(rng)
        if rng.random() < 0.3:
            self.crash_after, self.crossings = rng.randint(1, 24), 0
        tasks.request_creation(self.principal, ticket_id, ticket)
        if rng.random() < 0.2:
            self.faults["duplicate POST"] += 1
            tasks.request_creation(self.principal, ticket_id, ticket)
        expected_status, expected_priority, comments = "new", ticket["priority"], []
        changes = rng.randint(0, 3)
        early = rng.randint(0, changes)  # accepted before the task exists
        for i in range(changes):
            if i == early:
                self.drain(rng, ticket_id)
            if rng.random() < 0.25:
                text = f"comment {n}.{i}"
                tasks.request_comment(self.principal, ticket_id, text)
                comments.append(text)
            else:
                change = {"status": rng.choice(STATUSES), "priority": rng.choice(["urgent", "high", "normal", "low"])}
                tasks.request_update(self.principal, ticket_id, change)
                expected_status, expected_priority = change["status"], change["priority"]
            if rng.random() < 0.02:
                self._revoke()
        self.drain(rng, ticket_id)
        self.crash_after = None
        self.clickup.delete("/_emulator/faults")
        if connection.current(self.org_id).status == connection.NEEDS_REAUTH:
            self._reconnect()
            self.drain(rng, ticket_id)
        link = ticket_links.get(self.org_id, ticket_id)
        return self._violations(ticket_id, title, link, expected_status, expected_priority, comments)

    def _revoke(self) -> None:
        from bridge.connection import service as connection
        from bridge.vault import envelope

        conn = connection.current(self.org_id)
        if conn.status == connection.CONNECTED and conn.token:
            token = envelope.open_envelope(self.org_id, envelope.TOKEN, conn.token)
            self.clickup.post(f"/_emulator/tokens/{token}/revoke")
            self.faults["token revoked"] += 1

    def _draw_clickup_faults(self, rng: random.Random) -> None:
        roll = rng.random()
        create = r"/list/\d+/task$"
        if roll < 0.12:
            self._fault(
                {
                    "action": "status",
                    "status": rng.choice([500, 502, 503]),
                    "method": "POST",
                    "path": create,
                    "count": rng.randint(1, 3),
                },
                "5xx on create",
            )
        elif roll < 0.24:
            self._fault(
                {"action": "lose_response", "method": "POST", "path": create, "count": 1, "delay_s": 0.8},
                "lost response",
            )
        elif roll < 0.30:
            self._fault(
                {
                    "action": "status",
                    "status": 429,
                    "body": {"err": "Rate limit reached", "ECODE": "APP_002"},
                    "path": r"/task",
                    "count": rng.randint(1, 2),
                },
                "429",
            )
        elif roll < 0.36:
            self._fault(
                {"action": "lose_response", "method": "PUT", "path": r"/task/", "count": 1, "delay_s": 0.8},
                "lost response on update",
            )
        elif roll < 0.40:
            self._fault(
                {"action": "lose_response", "method": "POST", "path": r"/comment$", "count": 1, "delay_s": 0.8},
                "lost response on comment",
            )
        elif roll < 0.46:
            self._fault(
                {"action": "status", "status": 503, "method": "PUT", "path": r"/task/", "count": rng.randint(1, 2)},
                "5xx on update",
            )

    def _fault(self, rule: dict[str, Any], name: str) -> None:
        self.clickup.post("/_emulator/faults", json=rule).raise_for_status()
        self.faults[name] += 1

    def _violations(
        self, ticket_id: str, title: str, link: dict[str, Any] | None, status: str, priority: str, comments: list[str]
    ) -> list[str]:
        from bridge.tasks.render import PRIORITIES

        backend = self.emu.backend
        with backend.lock:
            mine = [t for t in backend.tasks.values() if t.name.startswith(f"[TICKET-{ticket_id}]")]
            posted = [c.text for t in mine for c in backend.comments.get(t.id, [])]
            found = [(t.name, t.list_id, t.status, t.priority, t.id) for t in mine]
        problems = []
        if len(found) != 1:
            return [f"{ticket_id}: {len(found)} tasks"]
        name, list_id, task_status, task_priority, task_id = found[0]
        if name != f"[TICKET-{ticket_id}] {title}" or list_id != self.list_id:
            problems.append(f"{ticket_id}: misnamed or misplaced ({name!r} in {list_id})")
        if link is None or link["state"] != "created" or link.get("task_id") != task_id:
            problems.append(f"{ticket_id}: link {link and link['state']} does not point at {task_id}")
        elif int(link.get("op_seq", 0)) != int(link.get("ops_applied", 0)):
            problems.append(f"{ticket_id}: {int(link.get('op_seq', 0)) - int(link.get('ops_applied', 0))} pending")
        status_name = task_status.status
        if str(status_name).lower() != status:
            problems.append(f"{ticket_id}: status {status_name} != {status}")
        if task_priority != PRIORITIES[priority]:
            problems.append(f"{ticket_id}: priority {task_priority} != {PRIORITIES[priority]} ({priority})")
        if sorted(posted) != sorted(comments):
            problems.append(f"{ticket_id}: comments {posted} != {comments}")
        return problems


def run_shard(shard: int, seed: int, runs: int) -> dict[str, Any]:
    """One process's share of the runs, on its own stack (moto, emulator) with its own seed."""
    harness = Harness()
    rng = random.Random(seed)
    violations: list[str] = []
    started = time.time()
    done = 0

    def figures() -> dict[str, Any]:
        return {
            "shard": shard,
            "seed": seed,
            "runs": done,
            "faults_injected": dict(sorted(harness.faults.items())),
            "violations": violations[:20],
            "violation_count": len(violations),
            "seconds": round(time.time() - started, 1),
        }

    try:
        for n in range(runs):
            if n and n % ORG_RUNS == 0:
                harness._setup_org(n // ORG_RUNS)
            violations += harness.run_once(rng, n)
            done = n + 1
            if done % 250 == 0:  # a long run leaves its figures so far, should it be stopped
                print(
                    f"  shard {shard}: {done}/{runs} runs, {len(violations)} violations, {time.time() - started:.0f}s",
                    flush=True,
                )
                record(f"task_faults.shard{shard}", figures(), quiet=True)
    finally:
        harness.stack.stop()
    record(f"task_faults.shard{shard}", figures(), quiet=True)
    return figures()


def run() -> dict[str, Any]:
    """FAULT_RUNS runs split over FAULT_WORKERS processes (default: one per core), seeds FAULT_SEED*100 + shard."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    started = time.time()
    shares = [RUNS // WORKERS + (1 if i < RUNS % WORKERS else 0) for i in range(WORKERS)]
    with ProcessPoolExecutor(max_workers=WORKERS, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(run_shard, i, SEED * 100 + i, share) for i, share in enumerate(shares)]
        shards = [f.result() for f in futures]
    faults: Counter[str] = Counter()
    for shard in shards:
        faults.update(shard["faults_injected"])
    result = {
        "runs_planned": RUNS,
        "runs": sum(shard["runs"] for shard in shards),
        "processes": WORKERS,
        "seeds": [shard["seed"] for shard in shards],
        "faults_injected": dict(sorted(faults.items())),
        "faults_total": sum(faults.values()),
        "violations": sum(shard["violation_count"] for shard in shards),
        "violation_examples": [v for shard in shards for v in shard["violations"]][:20],
        "seconds": round(time.time() - started, 1),
    }
    record("task_faults", result)
    return result


if __name__ == "__main__":
    sys.exit(1 if run()["violations"] else 0)
