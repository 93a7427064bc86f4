"""The per-organisation budget on moto's DynamoDB against the emulator's real limits (time-scaled windows):
concurrent callers never draw a 429, a 429 anyway blocks until reset, organisations do not share a budget,
and a worker hands a record back instead of sleeping."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from bridge.clickup.client import ClickUpClient
from bridge.clickup.errors import RateLimited
from bridge.ratelimit.limiter import DEFAULT_LIMIT, OrgRateLimiter, budget_of
from bridge.repositories import sync_state
from tests import flows
from tests.conftest import wait_for

LIMIT = 10


@pytest.fixture
def fast_windows(clickup: httpx.Client, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CLICKUP_RATE_WINDOW_S", "2")
    clickup.put("/_emulator/limits", json={"window_s": 2.0, "reset_unit": "ms", "plan_limits": {"business": LIMIT}})
    yield
    clickup.put("/_emulator/limits", json={"window_s": 60.0, "reset_unit": "s", "plan_limits": {"business": 100}})


def _statuses(clickup: httpx.Client, since: int, token_id: str) -> list[int]:
    log = clickup.get("/_emulator/requests", params={"since": since}).json()["requests"]
    return [r["status"] for r in log if r["token_id"] == token_id]


def _spend_budget(org_id: str) -> None:
    spender = OrgRateLimiter(org_id)
    with pytest.raises(RateLimited):
        for _ in range(1000):
            spender.before_request()


def _mark(clickup: httpx.Client) -> int:
    return int(clickup.get("/_emulator/requests", params={"since": 10**9}).json()["next"])


def test_concurrent_callers_stay_under_the_budget(stack, fast_windows, clickup, workspace, org_id, monkeypatch) -> None:
    # 4 s windows (0.4 s guard): moto's latency on a loaded 2-core machine stays well inside the guard
    monkeypatch.setenv("CLICKUP_RATE_WINDOW_S", "4")
    clickup.put("/_emulator/limits", json={"window_s": 4.0})
    ClickUpClient(workspace["token"], hooks=OrgRateLimiter(f"{org_id}-warmup")).get_teams()  # warm, as a worker is
    time.sleep(4.1)
    mark = _mark(clickup)
    outcomes: list[str] = []
    lock = threading.Lock()

    def caller() -> None:
        client = ClickUpClient(workspace["token"], hooks=OrgRateLimiter(org_id))
        for _ in range(10):
            try:
                client.get_user()
                result = "ok"
            except RateLimited:
                result = "held"
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = _statuses(clickup, mark, workspace["token_id"])
    assert 429 not in statuses
    assert outcomes.count("ok") == len(statuses) and outcomes.count("held") > 0
    assert outcomes.count("ok") <= budget_of(LIMIT) * 2  # the run spans at most two windows


def test_learns_the_limit_and_a_429_blocks_until_reset(stack, fast_windows, clickup, workspace, org_id) -> None:
    limiter = OrgRateLimiter(org_id)
    client = ClickUpClient(workspace["token"], hooks=limiter)
    client.get_user()
    assert limiter._limit == LIMIT  # learned from X-RateLimit-Limit
    # Someone else spends the token's window behind our back: the next call draws a 429...
    raw = httpx.Client(base_url=stack.emulator.url)
    while raw.get("/api/v2/user", headers={"Authorization": workspace["token"]}).status_code != 429:
        pass
    with pytest.raises(RateLimited):
        client.get_user()
    # ...and then the limiter holds every call until ClickUp's reset, without asking ClickUp
    mark = _mark(clickup)
    with pytest.raises(RateLimited) as held:
        ClickUpClient(workspace["token"], hooks=OrgRateLimiter(org_id)).get_user()
    assert _statuses(clickup, mark, workspace["token_id"]) == []
    time.sleep(max(0, held.value.reset_at - time.time()) + 0.05)
    assert client.get_user().id


def test_one_organisation_spending_its_budget_does_not_slow_another(
    stack, fast_windows, clickup, workspace, org_id, monkeypatch
) -> None:
    monkeypatch.setenv("CLICKUP_RATE_WINDOW_S", "10")  # the whole budget is spent inside one window
    spender = OrgRateLimiter(org_id)
    spent = 0
    with pytest.raises(RateLimited):
        while spent < 500:
            spender.before_request()
            spent += 1
    assert spent == budget_of(DEFAULT_LIMIT)  # nothing learned yet for this organisation: 100/min
    other = OrgRateLimiter(f"{org_id}-other")
    started = time.perf_counter()
    other.before_request()
    assert time.perf_counter() - started < 0.5


def test_a_worker_hands_the_record_back_and_nothing_is_lost(
    stack, api, auth, fast_windows, clickup, workspace, org_id
) -> None:
    flows.connect_with_token(api, auth(), workspace["token"])
    wait_for(lambda: sync_state.get_state(org_id).get("state") == "idle")  # the first sync has finished
    # Spend the organisation's budget, then ask for a sync
    _spend_budget(org_id)
    first = api.get("/api/v1/clickup/spaces", headers=auth()).json()["synced_at"]
    mark = _mark(clickup)
    time.sleep(1.0)  # synced_at has a 1 s resolution
    assert api.post("/api/v1/clickup/sync", headers=auth()).json()["state"] == "queued"
    wait_for(lambda: api.get("/api/v1/clickup/spaces", headers=auth()).json()["synced_at"] != first, timeout_s=30)
    assert 429 not in _statuses(clickup, mark, workspace["token_id"])


def test_portal_route_answers_429_with_retry_after(stack, api, auth, fast_windows, workspace, org_id) -> None:
    assert (
        api.put(
            "/api/v1/clickup/connection/personal-token", headers=auth(), json={"token": workspace["token"]}
        ).status_code
        == 200
    )
    _spend_budget(org_id)
    answer = api.post("/api/v1/clickup/connection/test", headers=auth())
    assert answer.status_code == 429 and answer.json()["error"]["code"] == "clickup_rate_limited"
    assert 1 <= int(answer.headers["Retry-After"]) <= 3
