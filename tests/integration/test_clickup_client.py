"""The one ClickUp client against the emulator's real faults: error mapping, retries, deadlines, hooks, pages."""

from __future__ import annotations

import time
from collections.abc import Mapping

import httpx
import pytest

from bridge.clickup.client import ClickUpClient, parse_reset
from bridge.clickup.errors import NotFound, RateLimited, Transient, WorkspaceNotAuthorized


class RecordingHooks:
    def __init__(self) -> None:
        self.before = 0
        self.after: list[tuple[int, str | None]] = []

    def before_request(self) -> None:
        self.before += 1

    def after_response(self, status: int, headers: Mapping[str, str]) -> None:
        self.after.append((status, headers.get("X-RateLimit-Limit")))


@pytest.fixture
def faults(clickup: httpx.Client):
    def add(**rule) -> None:
        assert clickup.post("/_emulator/faults", json=rule).status_code == 200

    yield add
    clickup.delete("/_emulator/faults")


def _client(workspace: dict, **kwargs) -> ClickUpClient:
    return ClickUpClient(workspace["token"], sleep=lambda s: None, **kwargs)


def _inbox(workspace: dict) -> str:
    return workspace["spaces"][0]["lists"][0]["id"]


def _requests_to(clickup: httpx.Client, since: int, path_part: str) -> list[dict]:
    return [
        r
        for r in clickup.get("/_emulator/requests", params={"since": since}).json()["requests"]
        if path_part in r["path"]
    ]


def _mark(clickup: httpx.Client) -> int:
    return int(clickup.get("/_emulator/requests", params={"since": 10**9}).json()["next"])


def test_transient_5xx_is_retried_then_succeeds(workspace: dict, clickup: httpx.Client, faults) -> None:
    task = _client(workspace).create_task(_inbox(workspace), {"name": "retry me"})
    faults(action="status", status=503, path=f"/task/{task.id}$", method="GET", count=2)
    mark = _mark(clickup)
    hooks = RecordingHooks()
    assert _client(workspace, hooks=hooks).get_task(task.id).id == task.id
    assert [r["status"] for r in _requests_to(clickup, mark, task.id)] == [503, 503, 200]
    assert hooks.before == 3 and [s for s, _ in hooks.after] == [503, 503, 200]
    assert all(limit == "100" for _, limit in hooks.after)


def test_persistent_5xx_gives_transient_after_max_attempts(workspace: dict, clickup: httpx.Client, faults) -> None:
    faults(action="status", status=502, path="/user$")
    mark = _mark(clickup)
    with pytest.raises(Transient) as failed:
        _client(workspace, max_attempts=3).get_user()
    assert failed.value.status == 502 and not failed.value.ambiguous
    assert len(_requests_to(clickup, mark, "/user")) == 3


def test_post_is_never_retried_on_an_ambiguous_failure(workspace: dict, clickup: httpx.Client, faults) -> None:
    faults(action="status", status=500, path="/task$", method="POST")
    mark = _mark(clickup)
    with pytest.raises(Transient) as failed:
        _client(workspace).create_task(_inbox(workspace), {"name": "once"})
    assert failed.value.ambiguous
    assert len(_requests_to(clickup, mark, f"/list/{_inbox(workspace)}/task")) == 1


def test_lost_response_is_a_timeout_but_the_task_exists(workspace: dict, clickup: httpx.Client, faults) -> None:
    faults(action="lose_response", path="/task$", method="POST", delay_s=3, count=1)
    started = time.monotonic()
    with pytest.raises(Transient) as lost:
        _client(workspace, remaining_s=lambda: 2.5 - (time.monotonic() - started)).create_task(
            _inbox(workspace), {"name": "[TICKET-x] lost"}
        )
    assert lost.value.ambiguous and time.monotonic() - started < 3
    names = [t.name for t in _client(workspace).iter_list_tasks(_inbox(workspace))]
    assert "[TICKET-x] lost" in names


def test_timeouts_and_retries_never_outlive_the_remaining_time(workspace: dict, faults) -> None:
    faults(action="timeout", path="/team$", delay_s=5)
    started = time.monotonic()
    with pytest.raises(Transient):
        ClickUpClient(workspace["token"], remaining_s=lambda: 3.0 - (time.monotonic() - started)).get_teams()
    assert time.monotonic() - started < 3.0


def test_rate_limited_with_reset_parsed(workspace: dict, clickup: httpx.Client) -> None:
    clickup.put("/_emulator/limits", json={"token_limits": {workspace["token"]: 2}})
    client = _client(workspace)
    client.get_user()
    client.get_user()
    with pytest.raises(RateLimited) as limited:
        client.get_user()
    assert limited.value.ecode == "APP_002" and time.time() < limited.value.reset_at <= time.time() + 61


def test_429_carries_clickups_headers(workspace: dict, clickup: httpx.Client) -> None:
    clickup.put("/_emulator/limits", json={"token_limits": {workspace["token"]: 3}})
    headers = {"Authorization": workspace["token"]}
    answers = [clickup.get("/api/v2/user", headers=headers) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["X-RateLimit-Limit"] == "3" for a in answers)
    assert answers[3].json() == {"err": "Rate limit reached", "ECODE": "APP_002"}
    assert int(answers[3].headers["X-RateLimit-Reset"]) >= int(time.time())


def test_parse_reset_accepts_seconds_and_milliseconds() -> None:
    assert parse_reset("1700000000") == 1700000000
    assert parse_reset("1700000000500") == 1700000000.5
    assert parse_reset(None) is None and parse_reset("soon") is None


def test_unknown_ids_map_to_domain_errors(workspace: dict) -> None:
    client = _client(workspace)
    with pytest.raises(WorkspaceNotAuthorized):
        client.get_task("doesnotexist")
    with pytest.raises(NotFound):
        client.delete_webhook("00000000-0000-0000-0000-000000000000")


def test_pagination_stops_on_last_page(workspace: dict, clickup: httpx.Client) -> None:
    client = _client(workspace)
    list_id = workspace["spaces"][0]["folders"][0]["lists"][1]["id"]
    for i in range(205):
        clickup.post(
            "/_emulator/act",
            json={
                "action": "create_task",
                "list_id": list_id,
                "user_id": workspace["user"]["id"],
                "task": {"name": f"t{i}"},
            },
        )
    pages = list(client.iter_task_pages(f"/list/{list_id}/task", order_by="created", reverse=True))
    assert [p for p, _ in pages] == [0, 1, 2] and [len(t) for _, t in pages] == [100, 100, 5]
    assert len({t.id for _, ts in pages for t in ts}) == 205


def test_each_429_is_counted_for_the_rate_limit_alarm(workspace: dict, clickup: httpx.Client) -> None:
    from bridge.clickup.client import RATE_LIMITED_METRIC
    from bridge.core.observability import metrics

    def counted() -> float:
        # The provider holds the metrics of the current invocation (per thread on the local stack).
        return float(sum(metrics.provider.metric_set.get(RATE_LIMITED_METRIC, {}).get("Value", [])))

    clickup.put("/_emulator/limits", json={"token_limits": {workspace["token"]: 1}})
    client = _client(workspace)
    before = counted()
    client.get_user()
    assert counted() == before  # a 200 is not counted
    with pytest.raises(RateLimited):
        client.get_user()
    assert counted() == before + 1
