"""`make demo` walks the main job against a running stack, step by step."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from local import demo

pytestmark = pytest.mark.e2e


def test_demo_walks_the_connect_flow(stack, clickup, monkeypatch, capsys, org_id) -> None:
    clickup.post("/_emulator/login", json={"user_id": stack.emulator.emulator.demo["user_id"]})
    monkeypatch.setenv("BRIDGE_API_PORT", str(urlparse(stack.api_url).port))
    monkeypatch.setenv("CLICKUP_EMULATOR_PORT", str(urlparse(stack.emulator.url).port))
    monkeypatch.setenv("BRIDGE_STATE_DIR", str(stack.config.state_dir))
    monkeypatch.setenv("DEMO_ORG", org_id)
    assert demo.main() == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"The reference console: {stack.api_url}/console/"
    assert "clickup=connected" in out and '"status": "connected"' in out and '"result": "ok"' in out
    assert "Acme Support" in out and "Acme Engineering" in out
    assert "space Customer Success" in out and "folderless: Support inbox" in out
    assert '"customer_id": "cust-acme"' in out
    assert '"state": "created"' in out and "POST again (a retrying portal) → 200" in out
    assert "priority urgent, pending changes 0" in out
    assert '"type": "clickup.task.status_changed"' in out and "clickup_changed by clickup:user:" in out
