"""The input rules of `bridge.core.inputs` and the webhook signature comparison, without a stack: any text in,
an answer out, never an exception (issue 14, failure 2)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from bridge.core.inputs import is_clickup_id, is_identity, is_token_text
from bridge.webhooks.ingest import Hook, _signed_by

ANY_TEXT = [
    "",
    "\x00",
    "a\r\nb",
    "\ud800",
    "\udfff\ud800",
    "\u202eabc",
    "ab\u200bc",
    "é" * 64,
    "\U0001f600",
    "x" * 100_000,
    "../../x",
    " a ",
    "٠١٢٣",  # Arabic-Indic digits: `\d` would take them
    "1\n",
]


@pytest.mark.parametrize("text", ANY_TEXT)
def test_the_signature_comparison_never_raises_and_never_matches_garbage(text: str) -> None:
    hook = Hook("org", "1", "w", "secret")
    assert _signed_by(hook, b"{}", text) is False
    assert _signed_by(hook, b"{}", text * 64) is False


def test_the_signature_comparison_accepts_the_genuine_signature_in_any_case() -> None:
    hook = Hook("org", "1", "w", "secret")
    digest = hmac.new(b"secret", b"{}", hashlib.sha256).hexdigest()
    assert _signed_by(hook, b"{}", digest) and _signed_by(hook, b"{}", f" {digest.upper()} ")


@pytest.mark.parametrize("text", ANY_TEXT)
def test_the_rules_answer_for_any_text(text: str) -> None:
    assert is_clickup_id(text) is False
    assert is_token_text(text) is (text == "../../x")  # visible ASCII: fine as a header value, not as an id
    assert is_identity(text) is (text in ("é" * 64, "\U0001f600", "../../x", "٠١٢٣"))


@pytest.mark.parametrize("value", ["90000001", "86a1b2c3d", "ABC-123", "6f1c2d3e-aaaa-4bbb-8ccc-0123456789ab"])
def test_clickup_ids(value: str) -> None:
    assert is_clickup_id(value) and is_token_text(value) and is_identity(value)


def test_non_strings_are_never_ids() -> None:
    assert not any(is_clickup_id(v) or is_token_text(v) or is_identity(v) for v in (None, 1, b"1", ["1"], {"1": 1}))
