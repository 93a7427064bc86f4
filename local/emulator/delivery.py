"""Webhooks out, with ClickUp's delivery semantics.

Each event goes to every matching webhook as a signed POST (`X-Signature`: hex HMAC-SHA256 of the exact body bytes
with the webhook's secret). A try fails on a non-2xx answer or after the delivery timeout (7 s). An event is tried
5 times and then dropped for good; each dropped event adds one to the webhook's `fail_count` (health `failing`),
100 suspend it, a 410 suspends it at once, and a success makes it `active` with `fail_count` 0 again.
Faults: drop, duplicate and reorder deliveries (by ratio).
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import queue
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from local.emulator.models import ClickUpBackend, Event, Webhook

log = logging.getLogger("local.emulator.delivery")
MAX_TRIES = 5
SUSPEND_AT = 100


@dataclass
class DeliveryConfig:
    timeout_s: float = 7.0
    retry_delays_s: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)  # between the 5 tries
    drop_ratio: float = 0.0
    duplicate_ratio: float = 0.0
    reorder_ratio: float = 0.0  # held back and sent after the next delivery
    reorder_hold_s: float = 0.3


@dataclass
class Delivery:
    webhook_id: str
    event: str
    body: bytes
    tries: int = 0
    outcome: str = "pending"  # delivered | dropped | discarded (fault) | pending
    statuses: list[int | str] = field(default_factory=list)
    created: float = field(default_factory=time.time)

    def summary(self) -> dict[str, Any]:
        return {
            "webhook_id": self.webhook_id,
            "event": self.event,
            "tries": self.tries,
            "outcome": self.outcome,
            "statuses": self.statuses,
            "body": json.loads(self.body),
        }


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookDispatcher:
    def __init__(self, backend: ClickUpBackend, workers: int = 4, seed: int | None = None) -> None:
        self.backend = backend
        self.config = DeliveryConfig()
        self.log: list[Delivery] = []
        self._queue: queue.Queue[Delivery | None] = queue.Queue()  # due now
        # Deliveries that are not due yet (held back to reorder, or waiting to be retried) wait here, not in a
        # worker: ClickUp sends other deliveries meanwhile (a worker sleeping on a held delivery capped the
        # emulator at workers/hold deliveries a second: 13/s with every delivery held 0.3 s).
        self._held: list[tuple[float, int, Delivery]] = []
        self._held_changed = threading.Condition()
        self._order = itertools.count()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._client = httpx.Client()
        self._threads = [threading.Thread(target=self._work, name=f"webhooks-{i}", daemon=True) for i in range(workers)]
        self._threads.append(threading.Thread(target=self._release_due, name="webhooks-held", daemon=True))
        self._stopping = threading.Event()
        backend.sink = self.publish

    def start(self) -> WebhookDispatcher:
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._held_changed:
            self._held_changed.notify_all()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout=2)
        self._client.close()

    def configure(self, **settings: Any) -> None:
        for key, value in settings.items():
            if not hasattr(self.config, key):
                raise ValueError(f"unknown delivery setting {key}")
            setattr(self.config, key, tuple(value) if key == "retry_delays_s" else float(value))

    def reset(self) -> None:
        with self._lock:
            self.log.clear()
        self.config = DeliveryConfig()

    def idle(self, webhook_id: str | None = None) -> bool:
        """Nothing left to send (to `webhook_id`, or to any webhook): queued, held or in flight."""
        if webhook_id is not None:
            with self._lock:
                return not any(d.outcome == "pending" for d in self.log if d.webhook_id == webhook_id)
        with self._held_changed:  # a delivery moves from held to the queue under this lock: never in neither
            return not self._held and self._queue.unfinished_tasks == 0

    def _schedule(self, due: float, delivery: Delivery) -> None:
        if due <= time.monotonic():
            self._queue.put(delivery)
            return
        with self._held_changed:
            heapq.heappush(self._held, (due, next(self._order), delivery))
            self._held_changed.notify()

    def _release_due(self) -> None:
        with self._held_changed:
            while not self._stopping.is_set():
                if not self._held:
                    self._held_changed.wait()
                    continue
                wait = self._held[0][0] - time.monotonic()
                if wait > 0:
                    self._held_changed.wait(wait)
                    continue
                self._queue.put(heapq.heappop(self._held)[2])

    # -- producing -------------------------------------------------------------------------------------
    def publish(self, event: Event) -> None:
        for hook in self.backend.matching_webhooks(event):
            payload = {**event.payload, "webhook_id": hook.id}
            # Serialized as ClickUp does (compact), but the signature is over these exact bytes.
            body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            delivery = Delivery(webhook_id=hook.id, event=event.name, body=body)
            with self._lock:
                self.log.append(delivery)
            cfg = self.config
            if self._random.random() < cfg.drop_ratio:
                delivery.outcome = "discarded"
                continue
            delay = cfg.reorder_hold_s if self._random.random() < cfg.reorder_ratio else 0.0
            self._schedule(time.monotonic() + delay, delivery)
            if self._random.random() < cfg.duplicate_ratio:
                twin = Delivery(webhook_id=hook.id, event=event.name, body=body)
                with self._lock:
                    self.log.append(twin)
                self._queue.put(twin)

    # -- delivering ------------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            delivery = self._queue.get()
            try:
                if delivery is None or self._stopping.is_set():
                    return
                try:
                    self._try(delivery)
                except Exception:
                    delivery.outcome = "dropped"  # never left pending: `idle` would wait for it for ever
                    log.exception("delivery worker failed")
            finally:
                self._queue.task_done()

    def _try(self, delivery: Delivery) -> None:
        with self.backend.lock:
            hook = self.backend.webhooks.get(delivery.webhook_id)
            if hook is None or hook.status == "suspended":
                delivery.outcome = "dropped"
                return
            endpoint, secret = hook.endpoint, hook.secret
        delivery.tries += 1
        status: int | str
        try:
            response = self._client.post(
                endpoint,
                content=delivery.body,
                timeout=self.config.timeout_s,
                headers={
                    "Content-Type": "application/json",
                    "X-Signature": sign(secret, delivery.body),
                    "User-Agent": "ClickUp-Webhooks (emulator)",
                },
            )
            status = response.status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        delivery.statuses.append(status)
        with self.backend.lock:
            hook = self.backend.webhooks.get(delivery.webhook_id)
            if hook is None:
                delivery.outcome = "dropped"
                return
            if isinstance(status, int) and 200 <= status < 300:
                hook.status, hook.fail_count = "active", 0
                delivery.outcome = "delivered"
                return
            if status == 410:
                hook.status = "suspended"
                delivery.outcome = "dropped"
                return
            if delivery.tries >= MAX_TRIES:
                self._count_failure(hook)
                delivery.outcome = "dropped"
                return
        delays = self.config.retry_delays_s
        delay = delays[min(delivery.tries - 1, len(delays) - 1)] if delays else 0.0
        self._schedule(time.monotonic() + delay, delivery)

    @staticmethod
    def _count_failure(hook: Webhook) -> None:
        hook.fail_count += 1
        hook.status = "suspended" if hook.fail_count >= SUSPEND_AT else "failing"
