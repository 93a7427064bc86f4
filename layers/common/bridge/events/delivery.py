"""Push delivery of portal events: each event is POSTed to the organisation's portal webhook URL with

    X-Bridge-Event-Id: <event id>            (stable per change: deduplicate on it)
    X-Bridge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<exact body>" with the portal secret>

A 2xx is delivered; anything else (or no answer in 5 s) is retried by the queue with a growing delay, then the
DLQ. The pull feed (`GET /api/v1/clickup/events`) holds every event either way.

A batch holds several organisations' events, and the portal URLs are the tenants' own: one that hangs must delay
only its own events (`deliver_batch`). Organisations are sent to at once, each in its own thread, one deadline for
all derived from the invocation's remaining time; an organisation's events go in order, and after its portal fails
slowly (no answer in time, no connection) its other events are not tried for `BREAKER_S` (a per-container circuit
breaker): they are handed back at once, and the other organisations' deliveries stand."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bridge.core.clock import utc_now_iso
from bridge.core.config import settings
from bridge.core.recent import Recent
from bridge.events import destination
from bridge.repositories import org_settings, portal_webhook
from bridge.vault import envelope

if TYPE_CHECKING:
    import httpx  # imported with the first push, not at import (cold starts, issue 18)

TIMEOUT_S = 5.0  # one POST's longest wait (connect, write, read)
RESERVE_S = 3.0  # kept back from the invocation's remaining time: hand-backs and the response after the sends
MIN_ATTEMPT_S = 0.5  # no POST starts with less time than this before the deadline
BREAKER_S = 4.0  # an organisation whose portal failed slowly gets no request for this long (< the first retry, 5 s)
DEADLINE_GRACE_S = 0.5  # after the deadline, how long a POST's timeout has to be reported by its thread
MAX_PARALLEL = 10  # organisations sent to at once (a batch holds at most 10 records)
_secrets: Recent[str | None] = Recent(60.0)
_http: httpx.Client | None = None


class DeliveryFailed(Exception):
    """The portal did not take the event; the queue tries again later. `no_answer`: the portal never answered (a
    timeout, no connection), the failure that makes others wait."""

    def __init__(self, reason: str, no_answer: bool = False) -> None:
        super().__init__(reason)
        self.no_answer = no_answer


class _Breaker:
    """Per container: organisation → the monotonic time until which its portal gets no request."""

    def __init__(self) -> None:
        self._open_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def is_open(self, org_id: str) -> bool:
        with self._lock:
            return self._open_until.get(org_id, 0.0) > time.monotonic()

    def trip(self, org_id: str) -> None:
        with self._lock:
            if len(self._open_until) > 1024:
                now = time.monotonic()
                self._open_until = {k: v for k, v in self._open_until.items() if v > now}
            self._open_until[org_id] = time.monotonic() + BREAKER_S

    def reset(self, org_id: str) -> None:
        with self._lock:
            self._open_until.pop(org_id, None)


breaker = _Breaker()


def rotate_secret(org_id: str) -> str:
    """A new signing secret, stored sealed; returned once (the portal keeps it)."""
    secret = "whsec_" + secrets.token_urlsafe(32)
    portal_webhook.put(org_id, envelope.seal(org_id, envelope.PORTAL_WEBHOOK_SECRET, secret), utc_now_iso())
    _secrets.forget(org_id)
    return secret


def _secret(org_id: str) -> str | None:
    def load() -> str | None:
        row = portal_webhook.get(org_id)
        return envelope.open_envelope(org_id, envelope.PORTAL_WEBHOOK_SECRET, row["secret"]) if row else None

    return _secrets.get(org_id, load)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _http_client() -> httpx.Client:
    global _http
    import httpx

    _http = _http or httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)
    return _http


@dataclass(frozen=True)
class _Prepared:
    org_id: str
    url: str
    body: bytes
    headers: dict[str, str]


def _prepare(event: dict[str, Any]) -> _Prepared | str:
    """The signed request for `event`, or why nothing is sent ('no_url', 'no_secret')."""
    org_id = event["org_id"]
    # An answer that drops the event ("no URL", "no secret") is never taken from this container's cache: the admin
    # may have set them since, through another function (seen once each function had its own module state).
    url = org_settings.recent(org_id).portal_webhook_url or org_settings.get(org_id).portal_webhook_url
    if not url:
        return "no_url"
    secret = _secret(org_id)
    if not secret:
        _secrets.forget(org_id)
        secret = _secret(org_id)
    if not secret:
        return "no_secret"
    body = json.dumps(event, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "clickup-bridge",
        "X-Bridge-Event-Id": event["id"],
        "X-Bridge-Signature": signature(secret, int(time.time()), body),
    }
    return _Prepared(org_id, url, body, headers)


def _post(request: _Prepared, timeout_s: float) -> str:
    """POST to the address the URL's host resolves to now, once checked (`bridge.events.destination`: public https
    only in deployed stages), with the name kept in Host and TLS SNI, so a name re-resolving inside (DNS rebinding)
    is never reached. 'destination_refused' (never retried) when the policy refuses it; DeliveryFailed otherwise."""
    import httpx

    try:  # checked at every send, and the checked address is the one connected to
        target = destination.resolve(request.url, allow_loopback=settings().portal_webhook_allow_loopback)
    except destination.DestinationRefused as refused:
        if refused.reason == "unresolvable":
            raise DeliveryFailed("the portal webhook URL's host does not resolve") from None
        from bridge.core.observability import logger

        logger.error("portal webhook URL refused", extra={"org_id": request.org_id, "reason": refused.reason})
        return "destination_refused"
    url = httpx.URL(request.url)
    try:
        answer = _http_client().post(
            url.copy_with(host=target.address),
            content=request.body,
            headers={**request.headers, "Host": url.netloc.decode("ascii")},
            extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
            timeout=timeout_s,
        )
    except httpx.HTTPError as exc:
        raise DeliveryFailed(type(exc).__name__, no_answer=True) from None
    if not 200 <= answer.status_code < 300:
        raise DeliveryFailed(f"the portal answered {answer.status_code}")
    return "delivered"


def deliver(event: dict[str, Any]) -> str:
    """'delivered', or why nothing was sent ('no_url', 'no_secret', 'destination_refused': the URL or the address
    it resolves to now is outside `bridge.events.destination`'s policy, never retried); DeliveryFailed to be tried
    again (also a host that does not resolve now)."""
    request = _prepare(event)
    return request if isinstance(request, str) else _post(request, TIMEOUT_S)


Outcome = (
    str | Exception
)  # 'delivered' / 'no_url' / 'no_secret' / 'destination_refused', or why the record is to be tried again


def deliver_batch(events: list[tuple[str, dict[str, Any]]], remaining_s: Callable[[], float]) -> dict[str, Outcome]:
    """Deliver a batch's events `[(record id, portal event)]`; each record's outcome by its id: a string as
    `deliver` returns, or the exception (DeliveryFailed, or what reading the organisation's settings raised) that
    makes it a batch item failure.

    `remaining_s()`: seconds left in the invocation. All POSTs end by one deadline (`remaining_s() - RESERVE_S`),
    each waits at most TIMEOUT_S; organisations are sent to concurrently, an organisation's events in order. A
    portal that fails slowly (a timeout or a transport error) trips its breaker: its later events in the batch,
    and in batches of the next BREAKER_S, fail at once (DeliveryFailed 'circuit_open') without a request. A POST
    still running at the deadline counts as failed (the portal may still take it: `X-Bridge-Event-Id` lets it
    drop the repeat)."""
    deadline = time.monotonic() + remaining_s() - RESERVE_S
    outcomes, by_org = _prepare_batch(events)
    if not by_org:
        return outcomes
    _http_client()  # created once, before the threads share it (httpx.Client is thread-safe)
    results: dict[str, Outcome] = {}  # written by the threads, one key per record
    pool = ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(by_org)), thread_name_prefix="portal-push")
    try:
        futures = [pool.submit(_send_org, org_id, requests, deadline, results) for org_id, requests in by_org.items()]
        # a POST's own timeout ends it by the deadline; the grace lets its thread report that (within RESERVE_S)
        wait_for(futures, timeout=max(0.0, deadline - time.monotonic()) + DEADLINE_GRACE_S)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # a POST past the deadline is left to end on its own
    for org_id, requests in by_org.items():
        for record_id, _ in requests:
            outcome = results.get(record_id)
            if outcome is None:  # still waiting for its portal's answer: given up on, like a timeout
                outcome = DeliveryFailed("deadline", no_answer=True)
                breaker.trip(org_id)
            outcomes[record_id] = outcome
    return outcomes


def _prepare_batch(
    events: list[tuple[str, dict[str, Any]]],
) -> tuple[dict[str, Outcome], dict[str, list[tuple[str, _Prepared]]]]:
    """The batch's records settled without a request (their outcome by record id), and the requests to send,
    by organisation in the batch's order."""
    outcomes: dict[str, Outcome] = {}
    by_org: dict[str, list[tuple[str, _Prepared]]] = {}
    for record_id, event in events:
        try:
            request = _prepare(event)
        except Exception as exc:  # noqa: BLE001 - this organisation's settings or secret: its record fails alone
            outcomes[record_id] = exc
            continue
        if isinstance(request, str):
            outcomes[record_id] = request
        else:
            by_org.setdefault(str(event["org_id"]), []).append((record_id, request))
    return outcomes, by_org


def _send_org(org_id: str, requests: list[tuple[str, _Prepared]], deadline: float, results: dict[str, Outcome]) -> None:
    """Send one organisation's requests in order (a thread of `deliver_batch`), each outcome into `results`; by
    the `deadline` (time.monotonic() seconds) and through the organisation's breaker."""
    for record_id, request in requests:
        if breaker.is_open(org_id):
            results[record_id] = DeliveryFailed("circuit_open")
            continue
        left = deadline - time.monotonic()
        if left < MIN_ATTEMPT_S:
            results[record_id] = DeliveryFailed("no_time_left")
            continue
        try:
            results[record_id] = _post(request, min(TIMEOUT_S, left))
            breaker.reset(org_id)
        except DeliveryFailed as failed:
            results[record_id] = failed
            if failed.no_answer:
                breaker.trip(org_id)
