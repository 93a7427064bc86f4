"""`clickup-bridge dev` (what `make dev` runs) as a newcomer uses it: a process, its URLs, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_dev_serves_health_auth_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    ports = {"BRIDGE_API_PORT": _free_port(), "CLICKUP_EMULATOR_PORT": _free_port(), "AWS_EMULATOR_PORT": _free_port()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "BRIDGE_STATE_DIR": str(tmp_path)}
    for leaked in ("AWS_ENDPOINT_URL", "TABLE_NAME"):
        env.pop(leaked, None)
    process = subprocess.Popen(
        [str(BIN / "clickup-bridge"), "dev"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{ports['BRIDGE_API_PORT']}"
    try:
        started = time.monotonic()
        while True:
            try:
                health = httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() - started < 60, "health not served within 60 s"
                time.sleep(0.25)
        assert health.status_code == 200 and health.json()["status"] == "ok"

        assert httpx.get(f"{base}/api/v1/me").status_code == 401
        assert "ClickUp bridge console" in httpx.get(f"{base}/console/").text  # the reference console
        token = subprocess.run(
            [str(BIN / "clickup-bridge"), "dev-token", "--org", "acme", "--role", "member"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        me = httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["org_id"] == "acme"

        fired = subprocess.run(
            [str(BIN / "clickup-bridge"), "schedule", "fire", "space-sync-tick"],
            env=env,
            capture_output=True,
            text=True,
        )
        assert fired.returncode == 0 and "message_id" in fired.stdout
        assert all(_listening(p) for p in ports.values())
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=20)[0]
    assert process.returncode == 0, output
    assert "http://127.0.0.1:" in output
    assert re.search(r"console +http://127\.0\.0\.1:\d+/console/", output), output
    assert not any(_listening(p) for p in ports.values()), "Ctrl-C must stop everything it started"
