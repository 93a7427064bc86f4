"""The reference console (console/, served at /console) in a real browser (Debian's Chromium through Playwright):
sign in with a portal JWT, connect ClickUp through the emulator's consent page, map statuses, assign a customer,
create a task from a ticket and watch it become created, change it from the console and in ClickUp (the emulator
acting as a ClickUp user), see the ticket and the event feed follow, disconnect. Asserts what the user reads, and
fails on any console error or uncaught exception."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import wait_for
from tests.e2e.test_browser_connect import ARGS, CHROMIUM

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
# README's screenshots: `CONSOLE_SCREENSHOTS=docs .venv/bin/python -m pytest tests/e2e/test_browser_console.py`
# (otherwise they go to a temporary folder, so a test run leaves the tree clean).
SHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tempfile.mkdtemp(prefix="console-shots-"))
# Chromium logs every non-2xx fetch as a console error. These 404s are answers the console reads, not faults:
# a customer without a space yet, the members route not deployed (the assignee picker falls back to ids), and a
# ticket without a ClickUp task (the ticket page then offers to link one).
EXPECTED_404 = (
    re.compile(r"/api/v1/customers/[^/]+/clickup-space$"),
    re.compile(r"/api/v1/clickup/members$"),
    re.compile(r"/api/v1/tickets/[0-9a-f-]{36}/clickup-task$"),
)


def _no_placeholders(text: str) -> None:
    """What a user reads never shows a programming placeholder."""
    assert not re.search(r"\b(null|undefined|NaN)\b|\[object Object\]", text), text


def _watch(page: Any, stack: Any, errors: list[str]) -> None:
    """Collects the page's console errors and uncaught exceptions into `errors`."""

    def on_console(msg: Any) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        if url.startswith(stack.emulator.url):
            return  # the emulator's consent page stands in for ClickUp's own: not the console's to answer for
        if "404" in msg.text and any(p.search(url) for p in EXPECTED_404):
            return
        errors.append(f"{msg.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))


def _members(route: Any, user: dict[str, Any]) -> None:
    """`GET /api/v1/clickup/members` as issue 19 specifies it, answered with the workspace's real ClickUp user
    while the route is not in this tree (the bridge's answer is used as soon as it gives one)."""
    answer = route.fetch()
    if answer.status != 404:
        route.fulfill(response=answer)
        return
    member = {"id": user["id"], "username": user["username"], "email": user["email"], "initials": "U", "role": 3}
    route.fulfill(json={"workspace_id": "", "members": [member]})


def _act(clickup: Any, workspace: dict[str, Any], **body: Any) -> None:
    answer = clickup.post("/_emulator/act", json={"user_id": workspace["user"]["id"], **body})
    assert answer.status_code == 200, answer.text


def test_console_main_job(stack, api, clickup, auth, org_id, workspace) -> None:
    assert CHROMIUM.exists(), "Chromium is installed by `make test` (make browser)"
    from playwright.sync_api import expect, sync_playwright

    clickup.post("/_emulator/login", json={"user_id": workspace["user"]["id"]})
    space = next(s for s in workspace["spaces"] if s["name"] == "Support")
    inbox = next(lst for lst in space["lists"] if lst["name"] == "Inbox")
    errors: list[str] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            _watch(page, stack, errors)
            expect.set_options(timeout=30_000)

            # Sign in with a pasted JWT (what `clickup-bridge dev-token` prints).
            page.goto(f"{stack.api_url}/console")
            expect(page.get_by_text("clickup-bridge dev-token")).to_be_visible()
            expect(page.get_by_label("Portal JWT")).to_be_focused()  # by keyboard: paste, Tab, Enter
            page.keyboard.insert_text(stack.token(org_id, user="alice", role="admin"))
            page.keyboard.press("Tab")
            expect(page.get_by_role("button", name="Sign in")).to_be_focused()
            page.keyboard.press("Enter")
            expect(page.locator("#whoami")).to_have_text(f"alice (admin) · {org_id}")
            expect(page.locator("#conn-status")).to_have_text("Not connected")

            # Connect: our connect route, ClickUp's consent page, back to the console.
            page.get_by_role("button", name="Connect ClickUp").click()
            page.wait_for_url(f"{stack.emulator.url}/**")
            assert workspace["name"] in page.content()
            page.click("#authorize")
            page.wait_for_url(f"{stack.api_url}/console/**")
            expect(page.locator("#notice")).to_have_text("ClickUp is connected.")
            expect(page.locator("#conn-status")).to_have_text("Connected")
            expect(page.locator("#conn-user")).to_contain_text(workspace["user"]["username"])
            expect(page.locator("#conn-workspaces")).to_contain_text(workspace["name"])
            assert "clickup=" not in page.url  # the outcome is read once, then dropped from the address

            # Settings offer only valid values: the statuses of the chosen list.
            wait_for(lambda: api.get("/api/v1/clickup/spaces", headers=auth()).json().get("synced_at"), timeout_s=30)
            page.reload()
            page.get_by_role("button", name="Add status mapping").click()
            row = page.locator("#status-mapping .row").first
            row.get_by_label("List").select_option(label="Support / Inbox")
            clickup_statuses = row.get_by_label("ClickUp status").locator("option").all_inner_texts()
            assert clickup_statuses == ["new", "doing", "done"]
            row.get_by_label("Portal status").fill("In progress")
            row.get_by_label("ClickUp status").select_option("doing")
            page.get_by_role("group", name="Default list per space").get_by_label("Support").select_option(
                label="Inbox"
            )
            page.get_by_role("button", name="Save settings").click()
            expect(page.locator("#notice")).to_have_text("Settings saved.")
            stored = api.get("/api/v1/clickup/settings", headers=auth()).json()
            assert stored["status_mapping"] == {inbox["id"]: {"In progress": "doing"}}
            assert stored["space_default_lists"] == {space["id"]: inbox["id"]}
            page.get_by_role("button", name="Test connection").click()
            expect(page.locator("#test-result")).to_contain_text("ok")
            _no_placeholders(page.inner_text("#main"))
            page.screenshot(path=str(SHOTS / "console-organisation.png"), full_page=True)

            # Customers: assign a space and list from the synced hierarchy.
            page.get_by_role("link", name="Customers").click()
            page.get_by_label("Customer id").fill("acme")
            page.get_by_role("button", name="Show assignment").click()
            expect(page.locator("#assignment")).to_have_text("Customer acme has no ClickUp space yet.")
            page.get_by_label("Space", exact=True).select_option(label="Support")
            page.get_by_label("List").select_option(label="Inbox")
            page.get_by_role("button", name="Assign", exact=True).click()
            expect(page.locator("#assigned-to")).to_have_text("Support → Inbox")
            expect(page.locator("#assignment")).to_contain_text("Assignment OK")
            _no_placeholders(page.inner_text("#main"))
            page.screenshot(path=str(SHOTS / "console-customers.png"), full_page=True)

            # Tickets: create the task, watch its state become created.
            page.get_by_role("link", name="Tickets").click()
            page.get_by_label("Title").fill("Printer on fire")
            expect(page.get_by_label("Customer id")).to_have_value("acme")  # remembered from the customers screen
            page.get_by_label("Priority").select_option("high")
            page.evaluate(
                """() => { window.seenStates = [];
                  new MutationObserver(() => { const s = document.querySelector('#task-state');
                    if (s && s.textContent !== window.seenStates.at(-1)) window.seenStates.push(s.textContent); })
                  .observe(document.querySelector('#main'), {subtree: true, childList: true, characterData: true}); }"""
            )
            page.get_by_role("button", name="Create ClickUp task").click()
            page.wait_for_url(re.compile(r".*#/tickets/[0-9a-f-]{36}$"))
            ticket_id = page.url.rsplit("/", 1)[1]
            expect(page.locator("h1")).to_have_text("Ticket: Printer on fire")
            expect(page.locator("#task-state")).to_have_text("Created")
            seen = page.evaluate("window.seenStates")
            order = ["Queued", "Creating…", "Created"]
            assert seen[-1] == "Created" and [order.index(s) for s in seen] == sorted({order.index(s) for s in seen})
            link = api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).json()
            expect(page.locator("#task-link")).to_have_text(f"Open task {link['task_id']} in ClickUp")
            expect(page.locator("#task-link")).to_have_attribute("href", link["task_url"])
            expect(page.locator("#task-status")).to_have_text("new")
            expect(page.locator("#task-priority")).to_have_text("high")

            # Change it from the console: a mapped portal status and a priority.
            page.locator("#change").get_by_label("Status").select_option("In progress")
            page.locator("#change").get_by_label("Priority").select_option("low")
            page.get_by_role("button", name="Apply change").click()
            expect(page.locator("#notice")).to_contain_text("Change accepted")
            expect(page.locator("#task-status")).to_have_text("doing")
            expect(page.locator("#task-priority")).to_have_text("low")
            page.get_by_label("Comment").fill("Looking into it.")
            page.get_by_role("button", name="Add comment").click()
            expect(page.locator("#notice")).to_have_text("Comment accepted: it is posted in ClickUp shortly.")
            expect(page.get_by_label("Comment")).to_have_value("")
            expect(page.locator("#history")).to_contain_text("commented")

            # A ClickUp user changes the task in ClickUp: the open ticket follows, the history names them.
            _act(clickup, workspace, action="set_status", task_id=link["task_id"], status="done")
            expect(page.locator("#task-status")).to_have_text("done")
            expect(page.locator("#history")).to_contain_text(f"clickup:user:{workspace['user']['id']}")
            _no_placeholders(page.inner_text("#task-card"))
            page.screenshot(path=str(SHOTS / "console-ticket.png"), full_page=True)

            # The feed shows it, and updates live while the ClickUp user acts again.
            page.get_by_role("link", name="Events").click()
            feed = page.locator("#events tbody")
            expect(feed).to_contain_text("clickup.task.created")
            expect(feed).to_contain_text("status doing → done")
            expect(feed).to_contain_text("connected (OAuth), 1 workspace(s)")
            _act(clickup, workspace, action="set_priority", task_id=link["task_id"], priority=1)
            expect(feed.locator("tr").first).to_contain_text("priority low → urgent")
            page.screenshot(path=str(SHOTS / "console-events.png"), full_page=True)

            # Disconnect (admin, after confirming).
            page.get_by_role("link", name="Organisation").click()
            page.get_by_role("button", name="Disconnect").click()
            expect(page.locator("#confirm")).to_contain_text("Disconnect ClickUp from this organisation?")
            page.locator("#confirm-ok").click()
            expect(page.locator("#notice")).to_have_text("ClickUp is disconnected.")
            expect(page.locator("#conn-status")).to_have_text("Disconnected")
            expect(page.get_by_role("button", name="Connect ClickUp")).to_be_visible()  # and can connect again
        finally:
            browser.close()
    assert api.get("/api/v1/clickup/connection", headers=auth()).json()["status"] == "disconnected"
    assert errors == []


def test_console_shows_a_broken_assignment(stack, api, clickup, auth, org_id, workspace) -> None:
    """ClickUp deletes the assigned list: the customer screen says so in words, and offers the remaining lists."""
    assert CHROMIUM.exists(), "Chromium is installed by `make test` (make browser)"
    from playwright.sync_api import expect, sync_playwright

    from tests import flows

    flows.connect_with_token(api, auth(), workspace["token"])
    space = next(s for s in workspace["spaces"] if s["name"] == "Support")
    l1 = space["folders"][0]["lists"][0]["id"]
    assigned = api.put(
        "/api/v1/customers/globex/clickup-space", headers=auth(), json={"space_id": space["id"], "list_id": l1}
    )
    assert assigned.status_code == 200, assigned.text
    _act(clickup, workspace, action="delete_item", kind="list", id=l1)
    wait_for(lambda: api.get("/api/v1/customers/globex/clickup-space", headers=auth()).json()["status"] == "broken")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            _watch(page, stack, errors)
            page.goto(f"{stack.api_url}/console/#/customers")
            page.get_by_label("Portal JWT").fill(stack.token(org_id, user="bob", role="member"))
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator("h1")).to_have_text("Customers", timeout=30_000)
            page.get_by_label("Customer id").fill("globex")
            page.get_by_role("button", name="Show assignment").click()
            expect(page.locator("#assignment-broken")).to_have_text(
                "Broken: the list was deleted in ClickUp. New tickets of this customer cannot become tasks: "
                "assign another space or list.",
                timeout=30_000,
            )
            expect(page.locator("#assigned-to")).to_have_text(f"Support → {l1} (no longer in ClickUp)")
            page.get_by_label("Space", exact=True).select_option(label="Support")
            lists = page.get_by_label("List").locator("option").all_inner_texts()
            assert lists == ["(space default)", "Inbox", "F1 / L2"], lists  # the deleted L1 is not offered
            page.screenshot(path=str(SHOTS / "console-customer-broken.png"), full_page=True)

            # A member sees the organisation without the admin's buttons; a revoked token reads as needing re-auth.
            page.get_by_role("link", name="Organisation").click()
            expect(page.locator("#conn-status")).to_have_text("Connected")
            expect(page.get_by_text("Connecting and disconnecting need the admin role.")).to_be_visible()
            expect(page.get_by_text("Settings are changed by admins.")).to_be_visible()
            expect(page.get_by_role("button", name="Disconnect")).to_have_count(0)
            expect(page.get_by_role("button", name="Save settings")).to_have_count(0)
            assert clickup.post(f"/_emulator/tokens/{workspace['token_id']}/revoke").status_code == 200
            page.get_by_role("button", name="Test connection").click()
            expect(page.locator("#test-result")).to_contain_text("revoked")
            page.reload()
            expect(page.locator("#conn-status")).to_have_text("Needs re-authorisation", timeout=30_000)
        finally:
            browser.close()
    assert errors == []


def test_console_shows_a_failed_creation_and_retries_it(stack, api, clickup, auth, org_id, workspace) -> None:
    """ClickUp refuses the task once: the ticket says Failed with ClickUp's reason; Retry creates it."""
    assert CHROMIUM.exists(), "Chromium is installed by `make test` (make browser)"
    from playwright.sync_api import expect, sync_playwright

    from tests import flows

    flows.connect_with_token(api, auth(), workspace["token"])
    space = next(s for s in workspace["spaces"] if s["name"] == "Support")
    assert api.put("/api/v1/customers/initech/clickup-space", headers=auth(), json={"space_id": space["id"]}).is_success
    rule = {
        "action": "status",
        "status": 400,
        "body": {"err": "Task name invalid", "ECODE": "INPUT_005"},
        "method": "POST",
        "path": r"/list/\d+/task$",
        "token": workspace["token"],
        "count": 1,
    }
    assert clickup.post("/_emulator/faults", json=rule).status_code == 200
    errors: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                _watch(page, stack, errors)
                expect.set_options(timeout=30_000)
                user = workspace["user"]
                page.route(f"{stack.api_url}/api/v1/clickup/members", lambda route: _members(route, user))
                page.goto(f"{stack.api_url}/console/#/tickets")
                page.get_by_label("Portal JWT").fill(stack.token(org_id, user="carol", role="member"))
                page.get_by_role("button", name="Sign in").click()
                page.get_by_label("Title").fill("Refused once")
                page.get_by_label("Customer id").fill("initech")
                page.get_by_role("button", name="Create ClickUp task").click()
                expect(page.locator("#task-state")).to_have_text("Failed")
                expect(page.locator("#task-error")).to_contain_text("INPUT_005")
                _no_placeholders(page.inner_text("#task-card"))
                page.screenshot(path=str(SHOTS / "console-ticket-failed.png"), full_page=True)
                page.get_by_role("button", name="Retry").click()
                expect(page.locator("#task-state")).to_have_text("Created")
                expect(page.locator("#task-link")).to_contain_text("Open task")
                expect(page.get_by_role("button", name="Retry")).to_have_count(0)

                # Assignees come from the members picker (the workspace's real user); ClickUp gets the id.
                page.get_by_label("Assignees").select_option(str(user["id"]))
                page.get_by_role("button", name="Apply change").click()
                expect(page.locator("#task-assignees")).to_have_text(user["username"])
                ticket_id = page.url.rsplit("/", 1)[1]
            finally:
                browser.close()
    finally:
        clickup.delete("/_emulator/faults")
    url = f"/api/v1/tickets/{ticket_id}/clickup-task"
    link = wait_for(lambda: (lk := api.get(url, headers=auth()).json())["pending_changes"] == 0 and lk)
    assert link["assignees"] == [user["id"]]
    assert errors == []


def test_console_maps_fields_from_the_list_and_links_and_unlinks_a_task(
    stack, api, clickup, auth, org_id, workspace
) -> None:
    """The field mapping offers the chosen list's own custom fields (read from ClickUp through the bridge); a ticket
    without a task is linked to one that exists in ClickUp by its URL, then unlinked; the feed says both."""
    assert CHROMIUM.exists(), "Chromium is installed by `make test` (make browser)"
    import uuid

    from playwright.sync_api import expect, sync_playwright

    from tests import flows

    flows.connect_with_token(api, auth(), workspace["token"])
    space = next(s for s in workspace["spaces"] if s["name"] == "Support")
    l1 = space["folders"][0]["lists"][0]
    severity = l1["fields"][0]
    inbox = next(lst for lst in space["lists"] if lst["name"] == "Inbox")
    task = clickup.post(
        f"/api/v2/list/{inbox['id']}/task", headers={"Authorization": workspace["token"]}, json={"name": "Known issue"}
    ).json()
    ticket_id = str(uuid.uuid4())
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            _watch(page, stack, errors)
            expect.set_options(timeout=30_000)
            page.goto(f"{stack.api_url}/console/#/organisation")
            page.get_by_label("Portal JWT").fill(stack.token(org_id, user="dana", role="admin"))
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator("#conn-status")).to_have_text("Connected")

            # Field mapping: the list's own custom fields, named with their type and options
            page.get_by_role("button", name="Add field mapping").click()
            row = page.locator("#field-mapping .row").first
            row.get_by_label("List").select_option(label="Support / F1 / L1")
            expect(row.get_by_label("ClickUp field").locator("option")).to_have_text(["Severity (drop down: S1, S2)"])
            row.get_by_label("Portal field").fill("severity")
            page.get_by_role("button", name="Add field mapping").click()
            other = page.locator("#field-mapping .row").nth(1)
            other.get_by_label("List").select_option(label="Support / Inbox")
            expect(other.get_by_role("status")).to_have_text("This list has no custom fields.")
            expect(other.get_by_label("ClickUp field")).to_be_disabled()
            other.get_by_role("button", name="Remove").click()
            page.get_by_role("button", name="Save settings").click()
            expect(page.locator("#notice")).to_have_text("Settings saved.")
            assert api.get("/api/v1/clickup/settings", headers=auth()).json()["field_mapping"] == {
                "severity": severity["id"]
            }
            page.reload()  # a stored mapping shows its field once its list is chosen again
            row = page.locator("#field-mapping .row").first
            expect(row.get_by_label("Portal field")).to_have_value("severity")
            expect(row.get_by_label("ClickUp field")).to_have_value(severity["id"])
            row.get_by_label("List").select_option(label="Support / F1 / L1")
            expect(row.get_by_label("ClickUp field")).to_have_value(severity["id"])
            _no_placeholders(page.inner_text("#main"))

            # A ticket without a task: link it to the task that exists in ClickUp, by its URL
            page.goto(f"{stack.api_url}/console/#/tickets/{ticket_id}")
            expect(page.locator("#task-state")).to_have_text("No ClickUp task for this ticket.")
            page.get_by_label("Existing ClickUp task (id or URL)").fill(task["url"])
            page.get_by_role("button", name="Link task").click()
            expect(page.locator("#notice")).to_have_text(
                f"Linked to ClickUp task {task['id']}: its changes now reach this ticket."
            )
            expect(page.locator("#task-state")).to_have_text("Created")
            expect(page.locator("#task-link")).to_have_attribute("href", task["url"])
            expect(page.locator("#task-status")).to_have_text("new")
            expect(page.locator("#history")).to_contain_text("linked")
            _no_placeholders(page.inner_text("#task-card"))
            page.screenshot(path=str(SHOTS / "console-ticket-linked.png"), full_page=True)

            # Unlink, after confirming: the task stays in ClickUp, the ticket offers to link again
            page.get_by_role("button", name="Unlink task").click()
            expect(page.locator("#confirm")).to_contain_text(f"Unlink this ticket from ClickUp task {task['id']}?")
            page.locator("#confirm-ok").click()
            expect(page.locator("#notice")).to_have_text("Unlinked: the task stays in ClickUp.")
            expect(page.locator("#task-state")).to_have_text("No ClickUp task for this ticket.")
            expect(page.get_by_role("button", name="Link task")).to_be_visible()
            expect(page.locator("#history")).to_have_count(0)

            # The feed says both
            page.get_by_role("link", name="Events").click()
            feed = page.locator("#events tbody")
            expect(feed.locator("tr").first).to_contain_text(f"unlinked from task {task['id']} by user:dana")
            expect(feed).to_contain_text(f"linked to task {task['id']} (new) by user:dana")
        finally:
            browser.close()
    assert api.get(f"/api/v1/tickets/{ticket_id}/clickup-task", headers=auth()).status_code == 404
    assert clickup.get(f"/api/v2/task/{task['id']}", headers={"Authorization": workspace["token"]}).status_code == 200
    assert errors == []
