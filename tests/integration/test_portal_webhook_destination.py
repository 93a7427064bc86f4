"""Portal webhook URLs cannot aim the bridge at internal addresses (issue 16 failure 8): refused on save with a
422 and a code, and checked again at every send, where a refused address is a visible, final outcome."""

from __future__ import annotations

import time
import uuid

import pytest

from tests import flows
from tests.conftest import wait_for

SETTINGS = "/api/v1/clickup/settings"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://169.254.169.254/latest/meta-data/", "not_public"),
        ("https://10.0.0.1/hook", "not_public"),
        ("https://192.168.0.10/hook", "not_public"),
        ("https://[fd00:ec2::254]/hook", "not_public"),
        ("https://[fe80::1]/hook", "not_public"),
        ("https://[::ffff:169.254.169.254]/hook", "not_public"),
        ("https://2130706433/hook", "ip_form"),
        ("https://0x7f.0.0.1/hook", "ip_form"),
        ("https://0177.0.0.1/hook", "ip_form"),
        ("https://portal.example.com:8443/hook", "port"),
        ("https://user:pw@portal.example.com/hook", "userinfo"),
        ("http://portal.example.com/hook", "scheme"),
    ],
)
def test_saving_a_url_that_leads_inside_is_a_422_with_a_code(api, auth, stack, url: str, reason: str) -> None:
    before = api.get(SETTINGS, headers=auth()).json()
    answer = api.put(SETTINGS, headers=auth(), json={**before, "portal_webhook_url": url})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "portal_webhook_url_not_allowed"
    assert error["details"] == {"field": "portal_webhook_url", "reason": reason}
    assert api.get(SETTINGS, headers=auth()).json() == before, "nothing was stored"


def test_the_local_stack_may_push_to_its_loopback_portal(api, auth, stack) -> None:
    receiver = f"{stack.api_url}/_local/portal/events"
    saved = api.put(SETTINGS, headers=auth(), json={"portal_webhook_url": receiver})
    assert saved.status_code == 200, saved.text
    assert api.get(SETTINGS, headers=auth()).json()["portal_webhook_url"] == receiver


def test_a_name_that_resolves_inside_at_send_time_is_refused_visibly_and_not_retried(
    api, auth, stack, workspace, org_id, patch_function, caplog
) -> None:
    """DNS rebinding: the name resolved to a public address when saved, and to the metadata service when an
    event is pushed. Nothing is sent there; the outcome is `destination_refused` (a metric and an ERROR log line),
    once: the record is not retried. The event stays in the pull feed."""
    answers = {"portal.rebind.example": ["93.184.216.34"]}
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return answers.get(host, [])

    # in the functions' own execution environments (each has its own `bridge`, local/runtime.py)
    patch_function(("oauth", "portal_delivery"), "bridge.events.destination", "_system_resolver", lambda _: resolver)
    ticket = str(uuid.uuid4())
    outcomes: list[tuple[str, str]] = []

    def spy(real):  # the portal_delivery handler sends its batch through deliver_batch
        def deliver_batch(events: list, remaining_s):
            results = real(events, remaining_s)
            for record_id, event in events:
                if event.get("org_id") == org_id and event.get("ticket_id") == ticket:
                    outcome = results[record_id]
                    outcomes.append((event["type"], outcome if isinstance(outcome, str) else type(outcome).__name__))
            return results

        return deliver_batch

    patch_function("portal_delivery", "bridge.events.delivery", "deliver_batch", spy)
    flows.connect_with_token(api, auth(), workspace["token"])
    assert api.post("/api/v1/clickup/portal-webhook/secret", headers=auth()).status_code == 200
    saved = api.put(SETTINGS, headers=auth(), json={"portal_webhook_url": "https://portal.rebind.example/hook"})
    assert saved.status_code == 200, saved.text
    assert lookups == ["portal.rebind.example"], "the name was checked when saved"
    answers["portal.rebind.example"] = ["169.254.169.254"]  # the name now leads to the metadata service

    space = workspace["spaces"][0]
    body = {"space_id": space["id"], "list_id": space["lists"][0]["id"]}
    assert api.put("/api/v1/customers/c1/clickup-space", headers=auth(), json=body).status_code == 200
    answer = api.post(
        f"/api/v1/tickets/{ticket}/clickup-task",
        headers=auth(),
        json={"title": "rebind", "priority": "low", "customer_id": "c1"},
    )
    assert answer.status_code == 202, answer.text
    wait_for(lambda: outcomes, timeout_s=30)
    time.sleep(1.0)  # a retry would come after 5 s x the time scale (25 ms)
    assert outcomes == [("clickup.task.created", "destination_refused")], "refused once, never retried"
    refusals = [r for r in caplog.records if r.getMessage() == "portal webhook URL refused"]
    assert refusals and refusals[-1].levelname == "ERROR"
    assert getattr(refusals[-1], "reason", None) == "not_public"
    feed = api.get("/api/v1/clickup/events", headers=auth()).json()["events"]
    assert any(e["type"] == "clickup.task.created" and e["ticket_id"] == ticket for e in feed)
