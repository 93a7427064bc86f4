"""Issue 19 part 4: the documentation page renders in a real browser (Debian's Chromium through Playwright) with no
request leaving the local stack (the machine has no internet; a deployed stage needs no CDN)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from local import openapi
from tests.e2e.test_browser_connect import ARGS, CHROMIUM

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_the_docs_page_renders_every_route_without_leaving_the_stack(stack) -> None:
    assert CHROMIUM.exists(), "Chromium is installed by `make test` (make browser)"
    from playwright.sync_api import sync_playwright

    document = json.loads(openapi.DOCUMENT.read_text())
    ours = urlsplit(stack.api_url).netloc
    elsewhere: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page()
            page.on(
                "request",
                lambda r: (
                    elsewhere.append(r.url) if r.url.startswith("http") and urlsplit(r.url).netloc != ours else None
                ),
            )
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.goto(f"{stack.api_url}/docs")
            page.wait_for_selector(".opblock", timeout=30_000)
            assert page.inner_text(".info .title").startswith(document["info"]["title"])
            shown = set()
            for block in page.query_selector_all(".opblock"):
                method = block.query_selector(".opblock-summary-method")
                path = block.query_selector(".opblock-summary-path")
                if method and path:
                    shown.add((method.inner_text().lower(), path.inner_text().replace("\u200b", "").strip()))
            expected = {(m, path) for path, ops in document["paths"].items() for m in ops}
            assert expected <= shown, sorted(expected - shown)
            # An operation opens with its example answer
            page.click(
                "#operations-default-workspace_members_api_v1_clickup_members_get .opblock-summary, "
                "[id$='workspace_members_api_v1_clickup_members_get'] .opblock-summary"
            )
            page.wait_for_selector("text=Alex Johnson", timeout=10_000)
        finally:
            browser.close()
    assert elsewhere == []
    assert errors == []
