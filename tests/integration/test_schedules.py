"""The schedule runner fires what the stack declares: at its (time-scaled) rate, and on demand."""

from __future__ import annotations

import httpx

from infra import definitions as d
from local.stack import LocalStack
from tests.conftest import wait_for


def test_every_declared_schedule_is_running(stack: LocalStack) -> None:
    assert stack.schedules is not None
    assert sorted(stack.schedules.schedules) == sorted(s.physical_name(d.LOCAL_STAGE) for s in d.SCHEDULES)


def test_schedule_fires_at_its_scaled_rate_and_reaches_the_worker(stack: LocalStack) -> None:
    assert stack.schedules is not None
    tick = stack.schedules.schedules[d.SCHEDULES[0].physical_name(d.LOCAL_STAGE)]
    before_fired, before_calls = tick.fired, stack.functions["space_sync"].invocations
    stack.schedules.start(only={tick.name})
    try:
        wait_for(lambda: tick.fired > before_fired, timeout_s=15)  # 15 min x 0.005 = 4.5 s
        wait_for(lambda: stack.functions["space_sync"].invocations > before_calls, timeout_s=15)
    finally:
        stack.schedules.stop()


def test_schedule_fires_on_demand(stack: LocalStack, api: httpx.Client) -> None:
    before = stack.functions["space_sync"].invocations
    response = api.post("/_local/schedules/space-sync-tick/fire")
    assert response.status_code == 200 and response.json()["message_id"]
    wait_for(lambda: stack.functions["space_sync"].invocations > before)
    assert api.post("/_local/schedules/nope/fire").status_code == 404
