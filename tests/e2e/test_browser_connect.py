"""A real browser (Debian's Chromium through Playwright) walks the connect flow: the portal asks for the
authorize URL, ClickUp's (emulated) consent page, Authorize, our callback, and the portal page showing the status."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import flows

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def test_connect_through_the_consent_page(stack, api, clickup, auth, org_id, workspace, tmp_path) -> None:
    assert CHROMIUM.exists(), "Chromium is installed by `make test` (make browser)"
    from playwright.sync_api import sync_playwright

    clickup.post("/_emulator/login", json={"user_id": workspace["user"]["id"]})
    started = flows.start(api, auth(), flows.portal_url(stack, org_id))
    assert started.status_code == 200
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(started.json()["authorize_url"])
            assert workspace["name"] in page.content()  # the consent page lists the user's workspaces
            page.click("#authorize")
            page.wait_for_url(f"{stack.api_url}/_local/portal*", timeout=20_000)
            page.screenshot(path=str(tmp_path / "portal.png"))
            assert "clickup=connected" in page.url
            assert page.inner_text("#status") == "connected"
            assert workspace["name"] in page.inner_text("#workspaces")
            assert page.inner_text("#user") == workspace["user"]["username"]
        finally:
            browser.close()
    assert api.get("/api/v1/clickup/connection", headers=auth()).json()["status"] == "connected"
