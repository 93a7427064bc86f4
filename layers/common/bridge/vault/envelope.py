"""KMS envelope encryption, bound to an organisation and a purpose.

A data key comes from KMS `GenerateDataKey` with the encryption context `{"org_id", "purpose"}`; the secret is
sealed with AES-256-GCM (random 96-bit nonce) and the same context as associated data. KMS refuses to unwrap the
key under any other context, so another organisation's (or purpose's) envelope never opens. Plaintext data keys
are cached in memory for a short TTL; failures are never cached.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from typing import Any

from bridge.core import aws
from bridge.core.config import settings

# botocore and cryptography are imported when a key is first used, not at import (cold starts, issue 18).


def _aws_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


def _aesgcm(key: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


# Purposes (names, not secrets): each one is a distinct encryption context.
TOKEN = "clickup-token"  # noqa: S105
WEBHOOK_SECRET = "clickup-webhook-secret"  # noqa: S105
PORTAL_WEBHOOK_SECRET = "portal-webhook-secret"  # noqa: S105
PURPOSES = frozenset({TOKEN, WEBHOOK_SECRET, PORTAL_WEBHOOK_SECRET})
VERSION = 1
KEY_TTL_S = 300.0
MAX_ENCRYPTIONS_PER_KEY = 1000


class VaultError(Exception):
    """An envelope could not be sealed or opened (wrong organisation or purpose, tampering, KMS refusal). A KMS call
    that failed for a passing reason (a timeout, a throttle: `bridge.core.aws.is_transient`) is raised as it is,
    not as a refusal: it is safe to repeat."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def _context(org_id: str, purpose: str) -> dict[str, str]:
    if not org_id or purpose not in PURPOSES:
        raise VaultError("an envelope needs an organisation and a known purpose")
    return {"org_id": org_id, "purpose": purpose}


def _aad(context: dict[str, str]) -> bytes:
    return json.dumps(context, sort_keys=True, separators=(",", ":")).encode()


class _KeyCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._encrypt: dict[tuple[str, str], tuple[bytes, bytes, str, float, int]] = {}
        self._decrypt: dict[str, tuple[bytes, float]] = {}

    def data_key(self, org_id: str, purpose: str) -> tuple[bytes, bytes, str]:
        now = time.monotonic()
        with self._lock:
            cached = self._encrypt.get((org_id, purpose))
            if cached and cached[3] > now and cached[4] < MAX_ENCRYPTIONS_PER_KEY:
                key, wrapped, key_id, expires, uses = cached
                self._encrypt[(org_id, purpose)] = (key, wrapped, key_id, expires, uses + 1)
                return key, wrapped, key_id
        try:
            answer = aws.client("kms").generate_data_key(
                KeyId=settings().tokens_key_id, KeySpec="AES_256", EncryptionContext=_context(org_id, purpose)
            )
        except _aws_errors() as exc:
            if aws.is_transient(exc):  # KMS slow or throttled: not a refusal (the API answers 503 aws_unavailable)
                raise
            raise VaultError(f"KMS refused a data key ({type(exc).__name__})") from None
        key, wrapped, key_id = answer["Plaintext"], answer["CiphertextBlob"], answer["KeyId"]
        with self._lock:
            self._encrypt[(org_id, purpose)] = (key, wrapped, key_id, now + KEY_TTL_S, 1)
        return key, wrapped, key_id

    def unwrap(self, org_id: str, purpose: str, wrapped: bytes) -> bytes:
        cache_key = hashlib.sha256(wrapped + _aad(_context(org_id, purpose))).hexdigest()
        now = time.monotonic()
        with self._lock:
            cached = self._decrypt.get(cache_key)
            if cached and cached[1] > now:
                return cached[0]
        try:
            answer = aws.client("kms").decrypt(
                CiphertextBlob=wrapped, EncryptionContext=_context(org_id, purpose), KeyId=settings().tokens_key_id
            )
        except _aws_errors() as exc:
            if aws.is_transient(exc):  # KMS slow or throttled: not a refusal (the API answers 503 aws_unavailable)
                raise
            raise VaultError(f"KMS refused to unwrap the data key ({type(exc).__name__})") from None
        with self._lock:
            self._decrypt[cache_key] = (answer["Plaintext"], now + KEY_TTL_S)
        return bytes(answer["Plaintext"])

    def forget(self, org_id: str) -> None:
        """Drop an organisation's cached keys (disconnect)."""
        with self._lock:
            for key in [k for k in self._encrypt if k[0] == org_id]:
                del self._encrypt[key]
            self._decrypt.clear()


_cache = _KeyCache()


def seal(org_id: str, purpose: str, plaintext: str) -> dict[str, Any]:
    context = _context(org_id, purpose)
    key, wrapped, key_id = _cache.data_key(org_id, purpose)
    nonce = os.urandom(12)
    ciphertext = _aesgcm(key).encrypt(nonce, plaintext.encode("utf-8"), _aad(context))
    return {
        "v": VERSION,
        "alg": "AES-256-GCM",
        "key_id": key_id,
        "purpose": purpose,
        "edk": _b64(wrapped),
        "nonce": _b64(nonce),
        "ct": _b64(ciphertext),
    }


def open_envelope(org_id: str, purpose: str, envelope: dict[str, Any]) -> str:
    context = _context(org_id, purpose)
    if not isinstance(envelope, dict) or envelope.get("v") != VERSION or envelope.get("purpose") != purpose:
        raise VaultError("not an envelope of this purpose and version")
    try:
        wrapped, nonce, ct = _unb64(envelope["edk"]), _unb64(envelope["nonce"]), _unb64(envelope["ct"])
    except (KeyError, ValueError):
        raise VaultError("malformed envelope") from None
    key = _cache.unwrap(org_id, purpose, wrapped)
    from cryptography.exceptions import InvalidTag

    try:
        return _aesgcm(key).decrypt(nonce, ct, _aad(context)).decode("utf-8")
    except (InvalidTag, UnicodeDecodeError):
        raise VaultError("the envelope does not open for this organisation and purpose") from None


def forget(org_id: str) -> None:
    _cache.forget(org_id)
