"""One tenant's dead portal delays only its own events (issue 15, defect 6).

Two organisations share the portal-events queue: one portal answers, the other's URL is a loopback endpoint that
accepts the connection and never answers. The answering portal's events arrive promptly and exactly once; the
hanging portal's events are retried later and arrive once it answers again."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from local.stack import LocalStack
from tests.conftest import wait_for
from tests.receiver import Receiver


class HangingPortal:
    """A loopback HTTP endpoint that reads each request and, while `hanging`, never answers (the connection stays
    open until the client gives up); otherwise it answers 200. `attempts`: the event ids of every request read;
    `answered`: those answered 200."""

    def __init__(self) -> None:
        self.hanging = True
        self.attempts: list[str] = []
        self.answered: list[str] = []
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._server.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}/hook"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        try:
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                headers = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:] if ": " in line)
                length = int({k.lower(): v for k, v in headers.items()}.get("content-length", "0"))
                while len(body) < length:
                    body += conn.recv(65536)
                event_id = json.loads(body)["id"]
                self.attempts.append(event_id)
                if self.hanging:
                    self._stop.wait(30)  # never answers; the client times out
                    return
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
                self.answered.append(event_id)
        except OSError:
            return

    def close(self) -> None:
        self._stop.set()
        self._server.close()


@pytest.fixture
def hanging_portal() -> Iterator[HangingPortal]:
    portal = HangingPortal()
    yield portal
    portal.close()


@pytest.fixture
def aws_visibility(stack: LocalStack) -> Iterator[None]:
    """portal-events' visibility timeout as deployed (180 s), not time-scaled: scaled to 5 s it would be shorter
    than a batch that waits 5 s for a hanging portal, and a second poller would receive the batch while the first
    still runs it (AWS's own visibility covers 6x the function's timeout)."""
    from infra import definitions as d

    poller = stack.pollers["portal-events"]
    scaled, poller._visibility = poller._visibility, d.queue("portal-events").visibility_timeout_s
    yield
    poller._visibility = scaled


def _push_to(api: httpx.Client, auth: Callable[..., dict[str, str]], org: str, url: str) -> None:
    assert api.post("/api/v1/clickup/portal-webhook/secret", headers=auth(org=org)).status_code == 200
    current = api.get("/api/v1/clickup/settings", headers=auth(org=org)).json()
    saved = api.put("/api/v1/clickup/settings", headers=auth(org=org), json={**current, "portal_webhook_url": url})
    assert saved.status_code == 200, saved.text


def _envelope(org: str, n: int) -> dict[str, Any]:
    """A portal event as the EventBridge rule puts it on portal-events (the event is the envelope's detail)."""
    event = {
        "id": f"evt-{uuid.uuid4().hex}",
        "type": "clickup.task.status_changed",
        "org_id": org,
        "ticket_id": str(uuid.uuid4()),
        "task_id": f"task-{n}",
        "data": {"status": "done"},
        "occurred_at": "2026-12-01T00:00:00Z",
    }
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": event["type"],
        "source": "clickup-bridge",
        "account": "123456789012",
        "time": "2026-12-01T00:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": event,
    }


def test_a_hanging_portal_delays_only_its_own_events(
    api: httpx.Client,
    auth: Callable[..., dict[str, str]],
    stack: LocalStack,
    hanging_portal: HangingPortal,
    aws_visibility: None,
) -> None:
    dead, alive = f"org-dead-{uuid.uuid4().hex[:6]}", f"org-alive-{uuid.uuid4().hex[:6]}"
    with Receiver() as receiver:
        _push_to(api, auth, dead, hanging_portal.url)
        _push_to(api, auth, alive, receiver.url)
        envelopes = [_envelope(org, n) for n in range(5) for org in (dead, alive)]  # interleaved, one batch
        assert stack.provisioned is not None
        sent_at = time.monotonic()
        answer = stack.aws.client("sqs").send_message_batch(
            QueueUrl=stack.provisioned.queue_urls["portal-events"],
            Entries=[{"Id": str(i), "MessageBody": json.dumps(e)} for i, e in enumerate(envelopes)],
        )
        assert not answer.get("Failed")
        alive_ids = [e["detail"]["id"] for e in envelopes if e["detail"]["org_id"] == alive]
        dead_ids = [e["detail"]["id"] for e in envelopes if e["detail"]["org_id"] == dead]

        def received_ids() -> list[str]:
            return [r.headers.get("X-Bridge-Event-Id", "") for r in receiver.received]

        wait_for(lambda: set(alive_ids) <= set(received_ids()), timeout_s=20)
        # promptly: before the hanging portal's first POST even timed out (5 s)
        assert time.monotonic() - sent_at < 4.0, time.monotonic() - sent_at
        assert hanging_portal.attempts  # the dead portal was tried...
        assert not set(dead_ids) & set(hanging_portal.answered)  # ...and took nothing yet

        hanging_portal.hanging = False  # the portal is back: its events arrive with the retries
        wait_for(lambda: set(dead_ids) <= set(hanging_portal.answered), timeout_s=40)
        time.sleep(2)  # anything sent again would arrive by now
        # each delivered; portal-events is a standard queue (at-least-once: SQS may hand a message out twice), so
        # the contract is the stable X-Bridge-Event-Id the portal deduplicates on, never an event of another org
        assert set(received_ids()) == set(alive_ids)
        assert sorted(hanging_portal.answered) == sorted(dead_ids)


def test_all_posts_end_by_the_invocations_deadline(
    api: httpx.Client, auth: Callable[..., dict[str, str]], stack: LocalStack, hanging_portal: HangingPortal
) -> None:
    """With 4.5 s left and 3 s kept back, a portal that never answers is given up on after ~1.5 s (not 5 s), its
    event is a failure to retry, and the other organisation's event is delivered."""
    from bridge.events import delivery

    dead, alive = f"org-dead-{uuid.uuid4().hex[:6]}", f"org-alive-{uuid.uuid4().hex[:6]}"
    with Receiver() as receiver:
        _push_to(api, auth, dead, hanging_portal.url)
        _push_to(api, auth, alive, receiver.url)
        events = [("r-dead", _envelope(dead, 1)["detail"]), ("r-alive", _envelope(alive, 1)["detail"])]
        started = time.monotonic()
        outcomes = delivery.deliver_batch(events, remaining_s=lambda: 4.5)
        assert time.monotonic() - started < 2.5
        assert outcomes["r-alive"] == "delivered" and len(receiver.received) == 1
        failed = outcomes["r-dead"]
        assert isinstance(failed, delivery.DeliveryFailed) and failed.no_answer
        # the breaker is open: the next event of that portal fails at once, without a request
        attempts = len(hanging_portal.attempts)
        again = delivery.deliver_batch([("r-dead-2", _envelope(dead, 2)["detail"])], remaining_s=lambda: 30.0)
        assert str(again["r-dead-2"]) == "circuit_open" and len(hanging_portal.attempts) == attempts
