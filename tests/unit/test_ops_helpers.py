"""The operator commands' pure helpers (infra/ops.py): redaction, queue names, times, poison reasons."""

from __future__ import annotations

import time

import pytest

from infra import definitions as d
from infra.operate import OperateError
from infra.ops import REDACTED, parse_time, poison_reason, queue_def, redact


def test_redact_hides_every_secret_and_envelope_wherever_it_sits() -> None:
    envelope = {
        "v": 1,
        "alg": "AES-256-GCM",
        "key_id": "k",
        "purpose": "clickup-token",
        "edk": "AAA",
        "nonce": "n",
        "ct": "C",
    }
    row = {
        "pk": "ORG#a",
        "token": envelope,
        "secret": "whsec_abc",
        "nested": [{"other": envelope}, {"name": "kept"}],
        "orgs": {"b", "a"},
        "status": "connected",
    }
    out = redact(row)
    assert out == {
        "pk": "ORG#a",
        "token": REDACTED,
        "secret": REDACTED,
        "nested": [{"other": REDACTED}, {"name": "kept"}],
        "orgs": ["a", "b"],
        "status": "connected",
    }
    assert "AAA" not in str(out) and "whsec_abc" not in str(out)


def test_queue_names_resolve_to_the_declared_queues() -> None:
    assert queue_def("task-create") is d.queue("task-create")
    assert queue_def("task-create-dlq.fifo") is d.queue("task-create")
    with pytest.raises(OperateError, match="unknown queue"):
        queue_def("nope")


def test_times_are_iso_or_durations_back_from_now() -> None:
    assert parse_time("2026-12-01T02:00:00Z") == 1796090400000
    assert abs(parse_time("2h") - (time.time() - 7200) * 1000) < 5000
    with pytest.raises(OperateError, match="--since"):
        parse_time("yesterday")


def test_poison_reason_names_what_the_worker_refuses() -> None:
    assert poison_reason("maintenance", {"kind": "sweep", "org_id": "a"}) is None
    reason = poison_reason("maintenance", {"kind": "sweep", "org_id": "a", "tick": "yesterday"})
    assert reason is not None and reason.startswith("not a valid maintenance message: sweep.tick:")
    assert poison_reason("portal-events", {"detail": {"org_id": "a"}}) is not None
    assert poison_reason("portal-events", {"detail": {"org_id": "a", "id": "e"}}) is None


def test_operator_commands_need_no_aws_profile_against_the_local_stack(monkeypatch) -> None:
    """Against `make dev` (an endpoint on loopback) placeholder credentials are used when none are configured;
    a real endpoint, or configured credentials, are left to boto3."""
    from infra.ops import local_credentials

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    assert local_credentials("http://127.0.0.1:8020") == {
        "aws_access_key_id": "local",
        "aws_secret_access_key": "local",
    }
    assert local_credentials("http://localhost:8020") != {}
    assert local_credentials("https://dynamodb.eu-west-1.amazonaws.com") == {}
    assert local_credentials(None) == {}
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    assert local_credentials("http://127.0.0.1:8020") == {}
