"""The local stack serves the reference console's static files at /console (its own page, not an API route)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


def test_console_files_are_served_with_their_types(api: httpx.Client) -> None:
    bare = api.get("/console")
    assert bare.status_code == 308 and bare.headers["location"].endswith("/console/")
    index = api.get("/console/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="app.js">' in index.text
    script = api.get("/console/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert api.get("/console/style.css").headers["content-type"].startswith("text/css")


def test_console_serves_nothing_outside_its_folder_and_only_reads(api: httpx.Client) -> None:
    assert api.get("/console/nope.js").status_code == 404
    for escape in ("/console/%2e%2e/pyproject.toml", "/console/..%2fpyproject.toml", "/console//etc/passwd"):
        answer = api.get(escape)
        assert answer.status_code == 404, escape
        assert "[project]" not in answer.text and "root:" not in answer.text
    answer = api.post("/console/index.html")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, HEAD"
    assert api.get("/consoles").status_code == 404  # only the /console prefix itself
