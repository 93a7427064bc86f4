"""The vault on moto's KMS: envelopes bound to organisation and purpose, tamper-evident, failures not cached."""

from __future__ import annotations

import time

import pytest

from bridge.clickup.models import Team, User
from bridge.connection import service
from bridge.repositories import connections
from bridge.vault import envelope


@pytest.fixture(autouse=True)
def _stack(stack) -> None:  # the vault needs the stack's KMS and environment
    return None


def test_round_trip_and_shape(org_id: str) -> None:
    sealed = envelope.seal(org_id, envelope.TOKEN, "pk_secret_value")
    assert set(sealed) == {"v", "alg", "key_id", "purpose", "edk", "nonce", "ct"}
    assert "pk_secret_value" not in str(sealed)
    assert envelope.open_envelope(org_id, envelope.TOKEN, sealed) == "pk_secret_value"


def test_another_organisation_or_purpose_cannot_open(org_id: str) -> None:
    sealed = envelope.seal(org_id, envelope.TOKEN, "tok")
    with pytest.raises(envelope.VaultError):
        envelope.open_envelope(f"{org_id}-other", envelope.TOKEN, sealed)
    with pytest.raises(envelope.VaultError):
        envelope.open_envelope(org_id, envelope.WEBHOOK_SECRET, {**sealed, "purpose": envelope.WEBHOOK_SECRET})


def test_kms_itself_refuses_a_foreign_context(org_id: str) -> None:
    # Even with the local key cache emptied, KMS refuses to unwrap the data key under another context.
    sealed = envelope.seal(org_id, envelope.TOKEN, "tok")
    envelope.forget(org_id)
    envelope.forget(f"{org_id}-other")
    with pytest.raises(envelope.VaultError, match="KMS refused"):
        envelope.open_envelope(f"{org_id}-other", envelope.TOKEN, sealed)


def test_tampering_is_detected(org_id: str) -> None:
    sealed = envelope.seal(org_id, envelope.TOKEN, "tok")
    ct = bytearray(sealed["ct"].encode())
    ct[2] = ord("A") if ct[2] != ord("A") else ord("B")
    with pytest.raises(envelope.VaultError):
        envelope.open_envelope(org_id, envelope.TOKEN, {**sealed, "ct": ct.decode()})


@pytest.mark.parametrize(
    ("code", "raised"),
    [
        ("KMSInternalException", "transient"),  # KMS briefly unavailable: raised as is (the API answers 503)
        ("InvalidCiphertextException", "refusal"),  # KMS refuses: a VaultError
        ("AccessDeniedException", "refusal"),
    ],
)
def test_failures_are_not_cached(org_id: str, monkeypatch: pytest.MonkeyPatch, code: str, raised: str) -> None:
    from botocore.exceptions import ClientError

    from bridge.core import aws

    sealed = envelope.seal(org_id, envelope.TOKEN, "tok")
    envelope.forget(org_id)
    real = aws.client("kms")

    class Flaky:
        def decrypt(self, **kwargs):
            raise ClientError({"Error": {"Code": code, "Message": "no"}}, "Decrypt")

    monkeypatch.setattr(aws, "client", lambda service: Flaky() if service == "kms" else real)
    with pytest.raises(ClientError if raised == "transient" else envelope.VaultError) as failed:
        envelope.open_envelope(org_id, envelope.TOKEN, sealed)
    assert aws.is_transient(failed.value) is (raised == "transient")
    monkeypatch.undo()
    assert envelope.open_envelope(org_id, envelope.TOKEN, sealed) == "tok"


def test_an_older_token_never_overwrites_a_newer_one(org_id: str) -> None:
    user, teams = User(id="1", username="u"), [Team(id="10", name="W")]
    newer = time.time()
    service.store_token(org_id, "newer-token", "oauth", user, teams, obtained_at=newer)
    version = connections.get(org_id).version
    kept = service.store_token(org_id, "older-token", "oauth", user, teams, obtained_at=newer - 5)
    stored = connections.get(org_id)
    assert stored.version == version and kept.version == version
    assert envelope.open_envelope(org_id, envelope.TOKEN, stored.token) == "newer-token"


def test_a_lost_race_rereads_and_retries(org_id: str) -> None:
    user, teams = User(id="1", username="u"), [Team(id="10", name="W")]
    service.store_token(org_id, "first", "oauth", user, teams, obtained_at=time.time())
    stale = connections.get(org_id)
    service.store_token(org_id, "second", "oauth", user, teams, obtained_at=time.time())
    assert connections.save(stale, expected_version=stale.version) is False  # the conditional write refuses
    stored = connections.get(org_id)
    assert envelope.open_envelope(org_id, envelope.TOKEN, stored.token) == "second"
